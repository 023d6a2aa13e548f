"""What every engine shares: one worker thread runs its jobs (user jobs first, worker.py), and
the status fields that thread updates are read under a lock as an `EngineStatus` snapshot.

The in-process engine (local/engine.py) and the remote one (remote/engine.py) differ only in
where the model comes from (`_model_for_job`) and what a job's failure means (`_run_job`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Protocol

from smallcode_lsp.engine.base import CompletionModel, EngineJob, EngineStatus
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import ModelInfo
from smallcode_lsp.engine.worker import EngineWorker
from smallcode_lsp.types import Completion

CANCEL_SAMPLES = 256


class CountingModel(CompletionModel, Protocol):
    prompt_tokens_evaluated: int  # every prompt token decoded since it loaded


class ThreadedEngine:
    """The job thread and the status; subclasses say where the model comes from."""

    kind = "local"  # EngineStatus.kind

    def __init__(self, url: str | None = None) -> None:
        self._worker = EngineWorker()
        self._url = url
        self._lock = threading.Lock()  # guards the status fields below
        self._info: ModelInfo | None = None
        self._error: str | None = None
        self._loading = False
        self._prompt_tokens = 0
        self._cancel_to_idle: deque[float] = deque(maxlen=CANCEL_SAMPLES)

    def _model_for_job(self) -> CountingModel:
        """On the worker: the model a job runs with; raises NoModel (or EngineUnavailable)."""
        raise NotImplementedError

    def _run_job(
        self, job: EngineJob, model: CountingModel, cancel: CancelToken
    ) -> list[Completion]:
        return job.run(model, cancel)

    def complete(
        self, job: EngineJob, cancel: CancelToken, *, background: bool = False
    ) -> Future[list[Completion]]:
        def run() -> list[Completion]:
            model = self._model_for_job()
            try:
                return self._run_job(job, model, cancel)
            finally:
                with self._lock:
                    self._prompt_tokens = model.prompt_tokens_evaluated

        if background:
            return self._worker.submit_background(run, cancel)
        future = self._worker.submit(run, cancel)
        future.add_done_callback(lambda _: self._released(cancel))
        return future

    def _released(self, cancel: CancelToken) -> None:
        """A user job let go of the engine (on the worker): if cancelled, how long that took."""
        if cancel.cancelled_at is not None:
            with self._lock:
                self._cancel_to_idle.append((time.perf_counter() - cancel.cancelled_at) * 1000)

    def status(self) -> EngineStatus:
        with self._lock:
            return EngineStatus(
                model=self._info,
                error=self._error,
                loading=self._loading,
                idle=self._worker.idle,
                background_idle=self._worker.background_idle,
                prompt_tokens_evaluated=self._prompt_tokens,
                cancel_to_idle_ms=tuple(self._cancel_to_idle),
                kind=self.kind,
                url=self._url,
            )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no user job is queued or running (tests, commands)."""
        return self._worker.wait_idle(timeout)
