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
from collections.abc import Iterator
from contextlib import contextmanager

import llama_cpp

from smallcode_lsp.engine.cancel import CancelToken


def _libc_strlen() -> ctypes._CFuncPtr:
    libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)
    return libc.strlen


_expected = 0  # switches tripped and not yet disarmed: llama.cpp's error lines are no errors


def abort_expected() -> bool:
    """True while a tripped switch is armed (llama.cpp then logs the abort as an error)."""
    return _expected > 0


class AbortSwitch:
    """A flag llama.cpp polls during `llama_decode`; `trip()` is safe from any thread."""

    def __init__(self, context: llama_cpp.llama_context_p) -> None:
        self._flag = ctypes.create_string_buffer(2)
        self._callback = ctypes.cast(_libc_strlen(), llama_cpp.ggml_abort_callback)
        llama_cpp.llama_set_abort_callback(
            context, self._callback, ctypes.cast(self._flag, ctypes.c_void_p)
        )

        self._armed: CancelToken | None = None
        self._held = False
        self._requested = False

    def trip(self) -> None:
        global _expected
        self._requested = True
        if not self._held and self._flag[0] == b"\0":
            self._flag[0] = b"x"
            _expected += 1

    @contextmanager
    def held(self) -> Iterator[None]:
        """Let the decode inside finish even if cancelled (its work is worth keeping)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
            if self._requested:
                self.trip()

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
        self._requested = False
        self._clear()
        return True

    def _clear(self) -> None:
        global _expected
        if self._flag[0] != b"\0":
            self._flag[0] = b"\0"
            _expected = max(0, _expected - 1)
