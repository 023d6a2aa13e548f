"""The engine boundary: what the scheduler above needs from whatever runs the model.

An engine owns its model and runs jobs on its own thread. Callers hand it work and get
`concurrent.futures.Future`s back, cancel through a `CancelToken` (safe from any thread), and
read its state as an immutable `EngineStatus` snapshot. Nothing else crosses threads: every
mutable object an engine's thread writes (the model, its KV cache, speed meter and abort
switch, the job queue) belongs to the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.model import LoadedModel, LoadOptions, ModelInfo
from smallcode_lsp.types import Completion


class NoModel(Exception):
    """A completion job ran while no model is loaded (still loading, or the load failed)."""


class EngineJob(Protocol):
    """One completion's work, run on the engine's thread with the loaded model."""

    def run(self, model: LoadedModel, cancel: CancelToken) -> list[Completion]: ...


@dataclass(frozen=True)
class EngineStatus:
    """A snapshot of an engine's state, safe to keep and read on any thread."""

    model: ModelInfo | None = None
    error: str | None = None  # why the last load failed
    loading: bool = False
    idle: bool = True  # no user job queued or running
    prompt_tokens_evaluated: int = 0  # every prompt token decoded since the model loaded
    cancel_to_idle_ms: tuple[float, ...] = ()  # recent cancelled jobs: cancel -> engine free


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
