"""Stopping a running `llama_decode` part-way, so a cancel frees the engine within a graph node.

llama.cpp's CPU backend polls an abort callback after every node of the compute graph and then
returns 2 from `llama_decode`, with the aborted batch's positions removed from the KV cache (the
cache still holds everything decoded before it). A Python callback would take the GIL at every
poll and stall decoding whenever the LSP thread runs, so the callback is C code: libc's
`strlen` over a two-byte buffer answers 1 once Python has set the first byte, 0 while it is
NUL — a flag read without Python. (The C `bool` result is the low byte of the return register
on every ABI llama.cpp runs on, and strlen returns exactly 0 or 1 here.) Other backends (Metal,
CUDA) poll between graph splits or not at all; cancellation between tokens still applies.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import llama_cpp

from smallcode_lsp.engine.cancel import CancelToken


def _libc_strlen() -> Any:
    libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)
    return libc.strlen


class _TrippedCount:
    """Switches tripped and not yet cleared: llama.cpp's error lines are then no errors.

    Tripped on the event loop, cleared on the engine worker, read by llama.cpp's log callback.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def add(self, delta: int) -> None:
        with self._lock:
            self._count = max(0, self._count + delta)

    def positive(self) -> bool:
        with self._lock:
            return self._count > 0


_tripped = _TrippedCount()


def abort_expected() -> bool:
    """True while a tripped switch is armed (llama.cpp then logs the abort as an error)."""
    return _tripped.positive()


class AbortSwitch:
    """A flag llama.cpp polls during `llama_decode`; `trip()` is safe from any thread.

    Owned by the engine worker (arm, disarm, held, stale); `trip()` runs on whichever thread
    cancels, under the lock, so a trip and a clear never interleave.
    """

    def __init__(self, context: llama_cpp.llama_context_p) -> None:
        self._flag = ctypes.create_string_buffer(2)
        self._callback = ctypes.cast(_libc_strlen(), llama_cpp.ggml_abort_callback)
        llama_cpp.llama_set_abort_callback(
            context, self._callback, ctypes.cast(self._flag, ctypes.c_void_p)
        )

        self._lock = threading.Lock()
        self._armed: CancelToken | None = None
        self._held = False
        self._requested = False

    def trip(self) -> None:
        with self._lock:
            self._requested = True
            if not self._held:
                self._set()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Let the decode inside finish even if cancelled (its work is worth keeping)."""
        with self._lock:
            self._held = True
        try:
            yield
        finally:
            with self._lock:
                self._held = False
                if self._requested:
                    self._set()

    def arm(self, cancel: CancelToken) -> None:
        """For one job: cancelling `cancel` aborts the decode in progress."""
        self.disarm()
        self._armed = cancel
        self._requested = False
        cancel.add_callback(self.trip)

    def disarm(self) -> None:
        if self._armed is not None:
            self._armed.remove_callback(self.trip)
            self._armed = None
        self._clear()

    def stale(self) -> bool:
        """An abort that the armed job did not ask for (a late trip from an earlier job)."""
        if self._armed is not None and self._armed.cancelled:
            return False
        with self._lock:
            self._requested = False
        self._clear()
        return True

    def _set(self) -> None:
        """Raise the flag (lock held)."""
        if self._flag[0] == b"\0":
            self._flag[0] = b"x"
            _tripped.add(1)

    def _clear(self) -> None:
        with self._lock:
            if self._flag[0] != b"\0":
                self._flag[0] = b"\0"
                _tripped.add(-1)
