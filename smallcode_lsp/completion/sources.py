"""What completions remember between requests: the context builder, recently visited code and
the prompt size each document used last (`ContextSources`), one per engine thread
(`ThreadSources`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from smallcode_lsp.context.builder import ContextBuilder
from smallcode_lsp.engine.base import CompletionModel
from smallcode_lsp.types import CompletionRequest
from smallcode_lsp.workspace.index import WorkspaceIndex
from smallcode_lsp.workspace.recent import RecentSnippets

RECENT_JUMP_LINES = 32


@dataclass
class ContextSources:
    """Workspace-level context kept across requests; written by one thread only (jobs get
    theirs from `ThreadSources`, and bring the workspace index with them)."""

    index: WorkspaceIndex | None = None
    recent: RecentSnippets = field(default_factory=RecentSnippets)
    _builder: ContextBuilder | None = None
    _builder_model: CompletionModel | None = field(default=None, repr=False)
    _recent_lines: dict[str, int] = field(default_factory=dict)
    # uri -> the prompt size the last request there used (sizing.sized_prompt tries it first)
    prompt_limits: dict[str, int] = field(default_factory=dict)

    def use_index(self, index: WorkspaceIndex | None) -> None:
        if index is not self.index:
            self.index = index
            self._builder = None  # it searches the index it was built with

    def note_cursor(self, request: CompletionRequest) -> None:
        """Remember the code around the cursor when it lands somewhere new (>32 lines away).

        Not on every keystroke: a changed snippet set changes the prompt's stable front.
        """
        doc = request.document
        if not doc.path:
            return
        line = doc.text.count("\n", 0, request.offset)
        last = self._recent_lines.get(doc.uri)
        if last is None or abs(line - last) > RECENT_JUMP_LINES:
            self._recent_lines[doc.uri] = line
            self.recent.add_around(doc.path, doc.text, request.offset)

    def builder_for(self, model: CompletionModel) -> ContextBuilder:
        """One builder per loaded model: it counts in that model's tokens and keeps state.

        The model is held, not its `id()`: a model loaded where a freed one lay would get the
        freed one's builder (and its tokenizer). The builder holds the model's tokenizer
        anyway, so this keeps nothing alive that was not already.
        """
        if self._builder is None or self._builder_model is not model:
            self._builder = ContextBuilder(self.index, self.recent, model.blocks.count)
            self._builder_model = model
        return self._builder


class ThreadSources:
    """The `ContextSources` of each thread that runs completion jobs, made there on first use.

    Why per thread: a job is made on the event loop and run on an engine's thread, and under
    `engineFallback` one service's jobs run on two (the remote engine's worker, and the
    in-process model's while the remote is down; a job the remote failed mid-way runs again
    on the other). One `ContextSources` handed along with the jobs was written from both. The
    engine cannot keep it for them (it sits below this package and knows no context), so a
    job asks, on the thread running it, for that thread's own: each is written by one thread
    only, needs no lock, and ends with its thread (an engine closed). Per model: each engine
    thread runs one model at a time and its builder follows that model (`builder_for`), so
    switching between the remote engine and the fallback no longer rebuilds either side's
    builder: the in-process model, kept loaded, finds its window starts as it left them. A
    remote engine that reconnects serves a new model object (perhaps another model: the
    server may have restarted), which starts afresh as before; keeping its builder would need
    a model identity the engines do not give. Shared between threads is only this holder,
    which holds nothing but the `threading.local`.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def here(self) -> ContextSources:
        """This thread's sources (made empty on its first call)."""
        sources: ContextSources | None = getattr(self._local, "sources", None)
        if sources is None:
            sources = self._local.sources = ContextSources()
        return sources
