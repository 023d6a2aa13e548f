"""Cancellation flag checked by the engine between decode steps."""

from __future__ import annotations

import threading
import time


class Cancelled(Exception):
    """Raised inside the engine when a job's CancelToken fired."""


class CancelToken:
    """Set from any thread; the engine polls it before each decode step (token-level cancel)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.cancelled_at: float | None = None  # time.perf_counter() of the first cancel

    def cancel(self) -> None:
        if self.cancelled_at is None:
            self.cancelled_at = time.perf_counter()
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled
