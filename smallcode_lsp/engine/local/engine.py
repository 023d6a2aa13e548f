"""The in-process engine: a GGUF model in llama.cpp, confined to one worker thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from smallcode_lsp.engine.base import NoModel
from smallcode_lsp.engine.info import LoadOptions, ModelInfo, ModelLoadError
from smallcode_lsp.engine.local.generate import LocalModel
from smallcode_lsp.engine.local.loader import load_local
from smallcode_lsp.engine.threaded import ThreadedEngine


class LocalEngine(ThreadedEngine):
    """The `Engine` over llama-cpp-python. The model is touched on the worker thread only;
    the status fields the worker updates are read under a lock, as a snapshot (threaded.py)."""

    def __init__(self) -> None:
        super().__init__()
        self._model: LocalModel | None = None  # worker thread only

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
            self._model = load_local(path, options)
        except ModelLoadError as exc:
            with self._lock:
                self._error, self._loading = str(exc), False
            raise
        with self._lock:
            self._info, self._loading = self._model.info, False
        return self._model.info

    def _model_for_job(self) -> LocalModel:
        if self._model is None:
            raise NoModel(self.status().error or "no model loaded")
        return self._model

    def close(self) -> None:
        self._worker.stop(on_exit=self._free)

    def _free(self) -> None:
        """On the worker, as it exits."""
        if self._model is not None:
            self._model.close()
            self._model = None
