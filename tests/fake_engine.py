"""A deterministic stand-in for the engine, for unit tests of what sits above it.

It runs nothing by itself: each `complete` call is recorded with its job, cancel token and
future, and the test decides when and how each future resolves. Jobs are plain records of
the request they were built for.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from smallcode_lsp.engine.base import EngineStatus
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions, ModelInfo
from smallcode_lsp.types import Completion, CompletionRequest, GenerationStats, StopReason


@dataclass(frozen=True)
class FakeJob:
    request: CompletionRequest
    background: bool = False
    grow: bool = False

    def run(self, model: object, cancel: CancelToken) -> list[Completion]:
        raise AssertionError("the fake engine never runs jobs")


@dataclass
class Call:
    job: FakeJob
    cancel: CancelToken
    background: bool
    future: Future[list[Completion]] = field(default_factory=Future)

    def answer(self, text: str, stop: StopReason = StopReason.EOG) -> None:
        self.future.set_result([Completion(text, GenerationStats(stop_reason=stop))])


def model_info(path: str = "/models/fake.gguf") -> ModelInfo:
    return ModelInfo(path, "fake", "Fake", "fake model", 1, 1, 2048, 100, False, 0, 0)


class FakeEngine:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.loads: list[Future[ModelInfo]] = []
        self.closed = False

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        future: Future[ModelInfo] = Future()
        self.loads.append(future)
        return future

    def complete(
        self, job: FakeJob, cancel: CancelToken, *, background: bool = False
    ) -> Future[list[Completion]]:
        call = Call(job, cancel, background)
        self.calls.append(call)
        return call.future

    def status(self) -> EngineStatus:
        return EngineStatus(idle=all(c.future.done() for c in self.calls if not c.background))

    def close(self) -> None:
        self.closed = True

    @property
    def user_calls(self) -> list[Call]:
        return [c for c in self.calls if not c.background]

    @property
    def background_calls(self) -> list[Call]:
        return [c for c in self.calls if c.background]
