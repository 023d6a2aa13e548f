"""Cancellation flag checked by the engine between decode steps (and inside one, see abort)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Cancelled(Exception):
    """Raised inside the engine when a job's CancelToken fired."""


class CancelToken:
    """Set from any thread; the engine polls it before each decode step (token-level cancel)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.cancelled_at: float | None = None  # time.perf_counter() of the first cancel

    def cancel(self) -> None:
        with self._lock:
            if self.cancelled_at is None:
                self.cancelled_at = time.perf_counter()
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the cancelling thread) when cancelled; now if already so."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def remove_callback(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled
