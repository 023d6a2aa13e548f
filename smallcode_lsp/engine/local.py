"""The in-process engine: a GGUF model in llama.cpp, confined to one worker thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from smallcode_lsp.engine.base import EngineJob, EngineStatus, NoModel
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.model import LoadedModel, LoadOptions, ModelInfo, ModelLoadError
from smallcode_lsp.engine.worker import EngineWorker
from smallcode_lsp.types import Completion

CANCEL_SAMPLES = 256


class LocalEngine:
    """The `Engine` over llama-cpp-python. The model is touched on the worker thread only;
    the status fields the worker updates are read under a lock, as a snapshot."""

    def __init__(self) -> None:
        self._worker = EngineWorker()
        self._model: LoadedModel | None = None  # worker thread only
        self._lock = threading.Lock()  # guards the status fields below
        self._info: ModelInfo | None = None
        self._error: str | None = None
        self._loading = False
        self._prompt_tokens = 0
        self._cancel_to_idle: deque[float] = deque(maxlen=CANCEL_SAMPLES)

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        with self._lock:
            self._loading = True
        return self._worker.submit(lambda: self._load(resolve_path, options))

    def _load(self, resolve_path: Callable[[], str], options: LoadOptions) -> ModelInfo:
        """On the worker: free the old model first, so two never sit in memory together."""
        if self._model is not None:
            self._model.close()
            self._model = None
        with self._lock:
            self._info, self._error, self._prompt_tokens = None, None, 0
        try:
            try:
                path = resolve_path()
            except (OSError, ValueError) as exc:
                raise ModelLoadError(f"cannot prepare the model: {exc}") from exc
            self._model = LoadedModel(path, options)
        except ModelLoadError as exc:
            with self._lock:
                self._error, self._loading = str(exc), False
            raise
        with self._lock:
            self._info, self._loading = self._model.info, False
        return self._model.info

    def complete(
        self, job: EngineJob, cancel: CancelToken, *, background: bool = False
    ) -> Future[list[Completion]]:
        def run() -> list[Completion]:
            model = self._model
            if model is None:
                raise NoModel(self.status().error or "no model loaded")
            try:
                return job.run(model, cancel)
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
                prompt_tokens_evaluated=self._prompt_tokens,
                cancel_to_idle_ms=tuple(self._cancel_to_idle),
            )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no user job is queued or running (tests, commands)."""
        return self._worker.wait_idle(timeout)

    def close(self) -> None:
        self._worker.stop(on_exit=self._free)

    def _free(self) -> None:
        """On the worker, as it exits."""
        if self._model is not None:
            self._model.close()
            self._model = None
