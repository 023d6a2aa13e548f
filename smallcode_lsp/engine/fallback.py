"""`engineFallback`: while the remote engine is down, the in-process model answers.

`FallbackEngine` composes a `RemoteEngine` and a `LocalEngine` (made and loaded on the first
fault, then kept loaded). It routes nothing by itself: the remote engine says whether it is
down (unreachable: refused, reset, silent, a 503), and only then do user jobs go to the local
model; a job the engine failed mid-way is run again there, so the user still gets an answer.
A refused key or a bad setting is not "down": that error is shown, not papered over.
Background jobs (prefetch, prompt growth, the service's probe) always go to the remote
engine: the probe is what reconnects it, and then user jobs return to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import TypeVar

from smallcode_lsp.engine.base import EngineJob, EngineStatus, EngineUnavailable
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions, ModelInfo, ModelLoadError
from smallcode_lsp.engine.local.engine import LocalEngine
from smallcode_lsp.engine.remote.engine import RemoteEngine
from smallcode_lsp.types import Completion

log = logging.getLogger(__name__)
T = TypeVar("T")


def _copy(source: Future[T], target: Future[T]) -> None:
    """Settle `target` as `source` settled."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (exc := source.exception()) is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


class FallbackEngine:
    """The `Engine` over a remote engine, with the in-process model while it is down."""

    def __init__(
        self, remote: RemoteEngine, make_local: Callable[[], LocalEngine] = LocalEngine
    ) -> None:
        self.remote = remote
        self._make_local = make_local
        self._lock = threading.Lock()  # guards the fields below (event loop and workers)
        self._local: LocalEngine | None = None
        self._local_load: Future[ModelInfo] | None = None
        self._resolve: Callable[[], str] | None = None
        self._options = LoadOptions()

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        """Connect to the engine; if it is down, load the in-process model and answer from it.
        `resolve_path` and `options` are kept for the in-process model."""
        with self._lock:
            self._resolve, self._options = resolve_path, options
            old, self._local, self._local_load = self._local, None, None
        if old is not None:  # its settings may have changed: loaded again when needed
            old.close()
        outer: Future[ModelInfo] = Future()

        def connected(future: Future[ModelInfo]) -> None:
            if future.cancelled() or future.exception() is None or not self.remote.down:
                _copy(future, outer)
                return
            reason = str(future.exception())
            self._local_model().add_done_callback(lambda local: self._settle(local, outer, reason))

        self.remote.load(resolve_path, options).add_done_callback(connected)
        return outer

    @staticmethod
    def _settle(local: Future[ModelInfo], outer: Future[ModelInfo], reason: str) -> None:
        exc = local.exception() if not local.cancelled() else None
        if exc is not None:
            outer.set_exception(ModelLoadError(f"{reason}; the in-process fallback: {exc}"))
        else:
            _copy(local, outer)

    def _local_model(self) -> Future[ModelInfo]:
        """The in-process model's load, started on the first call (any thread)."""
        with self._lock:
            if self._local is None or self._local_load is None:
                log.warning("engine down: loading the in-process model to answer meanwhile")
                self._local = self._make_local()
                resolve = self._resolve or (lambda: "")
                self._local_load = self._local.load(resolve, self._options)
            return self._local_load

    def _local_engine(self) -> LocalEngine:
        self._local_model()
        with self._lock:
            assert self._local is not None
            return self._local

    def complete(
        self, job: EngineJob, cancel: CancelToken, *, background: bool = False
    ) -> Future[list[Completion]]:
        if background:
            return self.remote.complete(job, cancel, background=True)
        if self.remote.down:
            return self._local_engine().complete(job, cancel)
        outer: Future[list[Completion]] = Future()

        def answered(future: Future[list[Completion]]) -> None:
            failed = not future.cancelled() and isinstance(future.exception(), EngineUnavailable)
            if failed and self.remote.down and not cancel.cancelled:
                _copy_later(self._local_engine().complete(job, cancel), outer)
            else:
                _copy(future, outer)

        self.remote.complete(job, cancel).add_done_callback(answered)
        return outer

    def status(self) -> EngineStatus:
        remote = self.remote.status()
        with self._lock:
            local, loaded = self._local, self._local_load
        if local is None or loaded is None or not self.remote.down or remote.error is None:
            return remote
        here = local.status()
        reason = f"{remote.error}: answering from the in-process model"
        failed = loaded.done() and not loaded.cancelled() and loaded.exception() is not None
        if failed:  # the fallback failed too: an error, both reasons
            why = here.error or str(loaded.exception())
            return replace(remote, error=f"{remote.error}; the in-process fallback: {why}")
        model = loaded.result() if loaded.done() and not loaded.cancelled() else None
        if model is None:
            reason += " (loading it)"
        return replace(
            remote,
            model=model,
            error=None,
            fallback=reason,
            idle=remote.idle and here.idle,
            prompt_tokens_evaluated=here.prompt_tokens_evaluated,
            cancel_to_idle_ms=here.cancel_to_idle_ms,
        )

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self.remote.wait_idle(timeout)

    def close(self) -> None:
        self.remote.close()
        with self._lock:
            local, self._local = self._local, None
        if local is not None:
            local.close()


def _copy_later(source: Future[T], target: Future[T]) -> None:
    source.add_done_callback(lambda done: _copy(done, target))
