"""The engine boundary: what the scheduler above needs from whatever runs the model.

An engine owns its model and runs jobs on its own thread. Callers hand it work and get
`concurrent.futures.Future`s back, cancel through a `CancelToken` (safe from any thread), and
read its state as an immutable `EngineStatus` snapshot. Nothing else crosses threads: every
mutable object an engine's thread writes (the model, its KV cache, speed meter and abort
switch, the job queue) belongs to the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import FimTokens, LoadOptions, ModelInfo
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.engine.stops import StopRule
from smallcode_lsp.engine.tokens import BlockTokenizer
from smallcode_lsp.types import Completion, GenerationParams, GenerationStats


class NoModel(Exception):
    """A completion job ran while no model is loaded (still loading, or the load failed)."""


class EngineUnavailable(NoModel):
    """A remote engine cannot serve now (unreachable, refused the key, answered garbage);
    the request is answered empty and the engine's status says why."""


class PromptCache(Protocol):
    """What an engine holds of earlier prompts (a KV cache, a remote slot's prompt)."""

    def shared_prefix(self, tokens: Sequence[int]) -> int: ...

    def __len__(self) -> int: ...


class CompletionModel(Protocol):
    """What the pipeline uses of a loaded model, on the engine's thread: the in-process
    `LocalModel` (local/generate.py) and the remote `RemoteModel` (remote/remote_model.py)."""

    fim: FimTokens
    bos: int | None
    add_bos: bool
    n_ctx: int  # tokens one prompt + answer may use
    speed: SpeedMeter  # sizes prompts to a time budget
    blocks: BlockTokenizer  # cached tokenization of prompt text

    def count_tokens(self, text: str) -> int: ...

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        """The most leading `tokens` any cache holds."""
        ...

    def pick_cache(self, tokens: Sequence[int]) -> PromptCache:
        """The cache `tokens` would be evaluated in."""
        ...

    def generate(
        self,
        prompt: Sequence[int],
        params: GenerationParams,
        stop_rules: Sequence[StopRule],
        cancel: CancelToken,
    ) -> tuple[str, GenerationStats]:
        """Up to `params.max_tokens` tokens after `prompt`, cut by `stop_rules`."""
        ...

    def prefill(
        self, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
    ) -> GenerationStats:
        """Evaluate `prompt` into a cache without generating (background)."""
        ...


class EngineJob(Protocol):
    """One completion's work, run on the engine's thread with the loaded model."""

    def run(self, model: CompletionModel, cancel: CancelToken) -> list[Completion]: ...


@dataclass(frozen=True)
class EngineStatus:
    """A snapshot of an engine's state, safe to keep and read on any thread."""

    model: ModelInfo | None = None
    error: str | None = None  # why the last load failed, or why a remote engine cannot serve
    loading: bool = False
    idle: bool = True  # no user job queued or running
    background_idle: bool = True  # no background job (prefetch, prompt growth) either
    prompt_tokens_evaluated: int = 0  # every prompt token decoded since the model loaded
    cancel_to_idle_ms: tuple[float, ...] = ()  # recent cancelled jobs: cancel -> engine free
    kind: str = "local"  # "local" (in-process) or "remote"
    url: str | None = None  # a remote engine's address (never its key)
    fallback: str | None = None  # why the in-process model answers for a remote engine now


class Engine(Protocol):
    """Runs completion jobs against one model; one job at a time, user jobs first."""

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        """Replace the model; `resolve_path` runs on the engine (it may assemble a file).
        The future fails with ModelLoadError and a reason for the user."""
        ...

    def complete(
        self, job: EngineJob, cancel: CancelToken, *, background: bool = False
    ) -> Future[list[Completion]]:
        """Queue `job`. A user job preempts background work (cancelled before its next
        token); background work only runs while no user job waits. The future fails with
        Cancelled when `cancel` fired before the job ran, NoModel without a model."""
        ...

    def status(self) -> EngineStatus: ...

    def close(self) -> None:
        """Stop the running job, drop queued ones, free the model."""
        ...
