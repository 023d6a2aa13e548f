"""Cancellation flag checked by the engine between decode steps."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside the engine when a job's CancelToken fired."""


class CancelToken:
    """Set from any thread; the engine polls it before each decode step (token-level cancel)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled
