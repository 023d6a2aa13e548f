"""The remote engine: the same pipeline, with a shared server doing the model's work over HTTP.

`RemoteEngine` implements `Engine` like the in-process one: jobs run one at a time on its own
worker thread (worker.py), user jobs preempting background ones, and there the pipeline gets a
`RemoteModel` (remote_model.py) for the configured API: llama-server's own (remote_llama.py)
or any OpenAI-compatible `/v1/completions` (remote_openai.py). Faults never escape as errors:
a request the engine cannot serve is answered empty (`EngineUnavailable`), the status says
why, and the next request after RETRY_S tries again, reconnecting from scratch (the server
may have restarted with another model). This machinery is the same for every API.
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from urllib.parse import urlsplit

from smallcode_lsp.engine.base import EngineJob, EngineUnavailable
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import KINDS, LoadOptions, ModelInfo, ModelLoadError, RemoteOptions
from smallcode_lsp.engine.remote.http import (
    AuthRefused,
    Endpoint,
    EngineError,
    HttpClient,
    Unreachable,
)
from smallcode_lsp.engine.remote.openai_api import api_root
from smallcode_lsp.engine.remote.remote_llama import connect_llama
from smallcode_lsp.engine.remote.remote_model import RemoteModel
from smallcode_lsp.engine.remote.remote_openai import connect_openai
from smallcode_lsp.engine.threaded import CountingModel, ThreadedEngine
from smallcode_lsp.types import Completion

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")
RETRY_S = 1.0  # after a failure, requests are answered empty at once for this long


def client_key(roots: Sequence[str]) -> str:
    """Who is asking, for slot affinity (hashed before use; only a slot number is sent)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{platform.node()}:{'|'.join(sorted(roots))}"


def connect(options: RemoteOptions) -> RemoteModel:
    """A connection to the engine and what it serves now; raises EngineError."""
    if options.kind not in KINDS:
        raise EngineError(f"engineKind {options.kind!r} is not one of {', '.join(KINDS)}")
    key = os.environ.get(options.api_key_env) if options.api_key_env else None
    url = api_root(options.url) if options.kind == "openai" else options.url
    try:
        ca_file = os.path.expanduser(options.ca_file) if options.ca_file else None
        client = HttpClient(Endpoint(url, key or None, options.timeout_ms / 1000, ca_file))
    except ValueError as exc:
        raise EngineError(str(exc)) from exc
    host = urlsplit(options.url).hostname or ""
    if key and options.url.startswith("http:") and host not in LOOPBACK:
        log.warning("engine: the API key travels unencrypted to %s: use https", host)
    try:
        if options.kind == "openai":
            return connect_openai(client, options.model, options.fim_template, options.timeout_ms)
        return connect_llama(client, options.client, options.timeout_ms, options.infill)
    except EngineError:
        client.close()
        raise


class RemoteEngine(ThreadedEngine):
    """The `Engine` over a shared server. Its worker owns the connection and the model; the
    status fields it updates are read under a lock, as a snapshot (threaded.py)."""

    kind = "remote"

    def __init__(self, options: RemoteOptions) -> None:
        super().__init__(url=options.url)
        self.options = options
        self._model: RemoteModel | None = None  # worker thread only
        self._retry_at = 0.0  # worker thread only: time.monotonic()
        self._down = False  # under _lock: the last failure was Unreachable (not a key, a setting)

    @property
    def down(self) -> bool:
        """Whether the engine could not be reached at its last try (any thread)."""
        with self._lock:
            return self._down

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        """Connect; the remote serves its own model (`resolve_path` and `options` are the
        in-process engine's)."""
        with self._lock:
            self._loading = True
        return self._worker.submit(self._load)

    def _load(self) -> ModelInfo:
        self._drop()
        try:
            model = self._connect()
        except EngineError as exc:
            raise ModelLoadError(self._failed(exc)) from exc
        finally:
            with self._lock:
                self._loading = False
        return model.info

    def _connect(self) -> RemoteModel:
        """On the worker: a fresh connection and what the server serves now."""
        options = self.options
        model = connect(options)
        self._model = model
        self._retry_at = 0.0
        with self._lock:
            self._info, self._error, self._down = model.info, None, False
        facts = ", ".join(f"{key} {value}" for key, value in model.describe().items())
        log.info(
            "engine at %s: %s, %s, FIM %s",
            options.url,
            facts,
            model.info.name,
            "yes" if model.fim.available else "no",
        )
        return model

    def _key_hint(self) -> str:
        """Where the key comes from (the variable's name, never its value)."""
        name = self.options.api_key_env
        if not name:
            return "set engineApiKeyEnv to the name of an environment variable holding the key"
        state = "holds a key the engine refused" if os.environ.get(name) else "is not set"
        return f"the environment variable {name} {state}"

    def _failed(self, exc: EngineError) -> str:
        """On the worker: forget the connection; requests wait RETRY_S before trying again.
        Returns the message for the user."""
        self._drop()
        self._retry_at = time.monotonic() + RETRY_S
        message = str(exc)
        if self.options.url not in message:  # say which engine (garbage from /props, ...)
            message = f"engine at {self.options.url}: {message}"
        if isinstance(exc, AuthRefused):
            message = f"{message}: {self._key_hint()}"
        with self._lock:
            if self._error != message:
                log.warning("engine: %s", message)
            self._error = message
            self._down = isinstance(exc, Unreachable)
        return message

    def _drop(self) -> None:
        if self._model is not None:
            self._model.close()
            self._model = None

    def _model_for_job(self) -> RemoteModel:
        """On the worker: the model, reconnecting after a failure once RETRY_S has passed."""
        if self._model is not None:
            return self._model
        if time.monotonic() < self._retry_at:
            raise EngineUnavailable(self.status().error or "engine unavailable")
        try:
            return self._connect()
        except EngineError as exc:
            raise EngineUnavailable(self._failed(exc)) from exc

    def _run_job(
        self, job: EngineJob, model: CountingModel, cancel: CancelToken
    ) -> list[Completion]:
        try:
            return job.run(model, cancel)
        except EngineError as exc:
            raise EngineUnavailable(self._failed(exc)) from exc

    def close(self) -> None:
        self._worker.stop(on_exit=self._drop)
