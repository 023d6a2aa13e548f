"""The engine worker: one thread runs jobs one at a time; user jobs preempt background ones.

The LSP event loop submits jobs and awaits their futures, so it never blocks on inference.
llama.cpp contexts are not thread-safe: everything that touches the model runs here
(local.py keeps the model; this module knows only callables).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from smallcode_lsp.engine.base import NoModel
from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.info import ModelLoadError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Job:
    run: Callable[[], Any]
    cancel: CancelToken
    future: Future[Any] = field(default_factory=Future)
    background: bool = False


class EngineWorker:
    """Runs jobs on one long-lived thread; tracks whether it is idle."""

    def __init__(self) -> None:
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0  # foreground jobs queued or running
        self._background: set[CancelToken] = set()
        self._lock = threading.Lock()
        self._on_exit: Callable[[], None] = lambda: None
        self._thread = threading.Thread(target=self._loop, name="smallcode-engine", daemon=True)
        self._thread.start()

    # -- submitting ----------------------------------------------------------------------------

    def submit(self, run: Callable[[], T], cancel: CancelToken | None = None) -> Future[T]:
        """Queue a user job: any background work stops before its next token."""
        job = _Job(run, cancel or CancelToken())
        with self._lock:
            self._pending += 1
            self._idle.clear()
            for token in self._background:
                token.cancel()
        self._queue.put(job)
        return job.future

    def submit_background(self, run: Callable[[], T], cancel: CancelToken) -> Future[T]:
        """Queue preemptible work (prefetch, warm-up): it runs only while no user job waits."""
        job = _Job(run, cancel, background=True)
        with self._lock:
            if self._pending:
                cancel.cancel()
            self._background.add(cancel)
        self._queue.put(job)
        return job.future

    # -- state ---------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    @property
    def background_idle(self) -> bool:
        """No background job (prefetch, prompt growth) queued or running."""
        with self._lock:
            return not self._background

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0, on_exit: Callable[[], None] | None = None) -> None:
        """Finish the running job, drop the rest, run `on_exit` on the thread, join it."""
        if on_exit is not None:
            self._on_exit = on_exit
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancel.cancel()
                job.future.cancel()
                if not job.background:
                    self._finished()
        self._queue.put(None)
        self._thread.join(timeout)

    # -- the thread ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            resolve = self._run(job)
            # Bookkeeping before the future resolves: whoever awaits it (the LSP loop, which
            # then schedules a prefetch) must find the engine free, or the prefetch it submits
            # is taken for one overtaken by a user job and cancelled on arrival.
            if job.background:
                with self._lock:
                    self._background.discard(job.cancel)
            else:
                self._finished()
            resolve()
        self._on_exit()

    def _run(self, job: _Job) -> Callable[[], None]:
        """Run `job`; returns what resolves its future (the caller calls it after bookkeeping)."""
        if not job.future.set_running_or_notify_cancel():
            return lambda: None
        if job.cancel.cancelled:  # stale: a newer request replaced it while it waited
            return partial(job.future.set_exception, Cancelled())
        try:
            result = job.run()
        except BaseException as exc:
            if not isinstance(exc, Cancelled | NoModel | ModelLoadError):
                log.exception("engine job failed")
            return partial(job.future.set_exception, exc)
        return partial(job.future.set_result, result)

    def _finished(self) -> None:
        with self._lock:
            self._pending -= 1
            if self._pending == 0:
                self._idle.set()
