"""What the scheduler hands the engine: one request's work under one plan (`CompletionJob`), of
one kind (`JobKind`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum

from smallcode_lsp.completion.plan import CompletionPlan
from smallcode_lsp.completion.run import grow_prompt, run_alternatives, warm_prompt
from smallcode_lsp.completion.sources import ThreadSources
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.engine.base import CompletionModel
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.types import Completion, CompletionRequest
from smallcode_lsp.workspace.index import WorkspaceIndex


class JobKind(Enum):
    """What a job does with its request."""

    ANSWER = "answer"  # the user's request: completions, as fast as the deadline allows
    PREFETCH = "prefetch"  # background: the answer after the shown one (protects the cache)
    GROW = "grow"  # background: the full prompt evaluated after an answer from a smaller one
    WARM = "warm"  # background: the resting cursor's spot prefilled before the first key

    @property
    def background(self) -> bool:
        return self is not JobKind.ANSWER


@dataclass(frozen=True)
class CompletionJob:
    """One request's work under one plan: what the scheduler hands the engine (`kind`).

    It carries no context memory of its own: `memory` gives it, on the thread that runs it,
    that thread's `ContextSources` (sources.py says why).
    """

    request: CompletionRequest
    plan: CompletionPlan
    memory: ThreadSources
    index: WorkspaceIndex | None = None
    parsed: ParsedDocument | None = None
    kind: JobKind = JobKind.ANSWER
    submitted: float = field(default_factory=time.perf_counter)

    @property
    def background(self) -> bool:
        return self.kind.background

    def run(self, model: CompletionModel, cancel: CancelToken) -> list[Completion]:
        waited_ms = (time.perf_counter() - self.submitted) * 1000
        sources = self.memory.here()
        sources.use_index(self.index)
        if self.kind is JobKind.GROW:
            grow_prompt(model, self.request, self.plan, cancel, sources)
            return []
        if self.kind is JobKind.WARM:
            return warm_prompt(model, self.request, self.plan, cancel, sources, self.parsed)
        results = run_alternatives(
            model, self.request, self.plan, cancel, sources, self.parsed, self.background
        )
        if not self.background:
            for completion in results:
                completion.stats.queue_ms = waited_ms
        return results
