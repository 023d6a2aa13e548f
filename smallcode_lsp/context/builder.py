"""Prompt context for one completion: prefix/suffix windows plus snippets, under a token budget.

Snippet sources, by priority when the budget is short: the file's imports and the enclosing
scope headers (when the prefix window cut them off), definitions of identifiers near the cursor
found in other files (index + the file's imports), recent chunks. The emitted order is fixed by
kind and path, never by score, so the prompt's head (and the model's KV cache) survives typing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from smallcode_lsp.context.budget import DEFAULT_RATIO, fill_for, fit_prefix, fit_suffix
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.resolve import definition_snippets
from smallcode_lsp.context.scope import imports_of, scope_chain
from smallcode_lsp.types import CompletionRequest, ContextSnippet, PromptParts
from smallcode_lsp.workspace.index import WorkspaceIndex
from smallcode_lsp.workspace.recent import RecentSnippets

log = logging.getLogger("smallcode_lsp.context")

# Of budget_tokens reserved for snippets when the prefix would use it all. Nearby code is worth
# more in small prompts: 24 cold pygls tasks (default model, no deadline), exact / edit sim with
# 0.4 -> 0.2: 256 tokens 12.5% / 0.397 -> 16.7% / 0.422, 512 tokens 12.5% / 0.485 -> 20.8% /
# 0.536, full 2k prompt 25.0% / 0.513 both.
SNIPPET_SHARE = 0.2
HEADER_TOKENS = 6  # per snippet: the path line / <|file_sep|> the renderer adds
VISIBLE_SHARE = 0.5  # a recent chunk with more of its lines in the window is on screen
MAX_IMPORT_LINES = 40
# Builds at a new spot until the window starts where the snippets were chosen for (a fixed
# point: the next build there changes nothing); a few suffice, each is a tokenizer pass.
BUILD_PASSES = 3
_ORDER = {"import": 0, "definition": 1, "recent": 2, "scope": 3}


class ContextBuilder:
    """Builds PromptParts; keeps small per-document memory for stable snippet choice."""

    def __init__(
        self,
        index: WorkspaceIndex | None,
        recent: RecentSnippets | None,
        count_tokens: Callable[[str], int],
    ) -> None:
        self.index = index
        self.recent = recent
        self.count = count_tokens  # the model's counter caches (engine/tokens.py)
        self._last_names: dict[str, list[str]] = {}
        # (uri, budget) -> (last prefix window start, tokens/char ratio it was built with),
        # kept while it fits: one per prompt size, since a spot can be served from a small
        # prompt while a larger one grows. The ratio sizes the snippets' share, so a build at
        # a kept start reuses its ratio: the same inputs give the same prompt (a warm-up's
        # prompt is the one the first key extends, whatever other sizes measured meanwhile).
        self._starts: dict[tuple[str, int], tuple[int, float]] = {}
        self._ratio = DEFAULT_RATIO  # tokens per char of recent windows: what a new key starts with

    def relative(self, path: str | None) -> str | None:
        if path is None:
            return None
        return self.index.relative(path) if self.index is not None else os.path.basename(path)

    def build(
        self,
        request: CompletionRequest,
        parsed: ParsedDocument | None,
        budget_tokens: int,
        suffix_budget_tokens: int,
    ) -> PromptParts:
        """Prefix (+ snippets) within budget_tokens, suffix within suffix_budget_tokens."""
        snap = request.document
        if parsed is None or parsed.text != snap.text:
            parsed = ParsedDocument(snap.text, snap.language_id, snap.path)
        rel = self.relative(snap.path) or snap.uri.rsplit("/", 1)[-1]
        prefix = request.prefix
        share = budget_tokens - int(budget_tokens * SNIPPET_SHARE)
        key = (snap.uri, budget_tokens)
        kept = self._starts.get(key)
        ratio = self._ratio if kept is None else kept[1]
        suffix = fit_suffix(request.suffix, suffix_budget_tokens, self.count, ratio)
        # Where the prefix window will roughly start, from the tokens/char ratio: enough to
        # decide which scope headers and imports fall outside it (no tokenizer call).
        guess = max(0, len(prefix) - int(share / ratio))
        start_guess = 0 if guess == 0 else prefix.find("\n", guess) + 1 or len(prefix)
        hint = None if kept is None else kept[0]
        if hint is not None and hint <= len(prefix) and (hint == 0 or prefix[hint - 1] == "\n"):
            start_guess = hint  # the previous window start: stable while typing
        # The snippets get what the whole prefix leaves, at least SNIPPET_SHARE: not what the
        # window leaves, which each pass shrank (a later start left more for snippets, which
        # left less for the window: a 256-token prompt ended with 1 token of prefix).
        prefix_tokens = int(len(prefix) * ratio)
        for build_pass in range(BUILD_PASSES):
            try:
                candidates = self._candidates(
                    request, parsed, rel, start_guess, prefix[start_guess:] + suffix
                )
            except Exception:  # context is an optimisation: never fail the completion over it
                log.exception("context: snippet collection failed")
                candidates = []
            chosen, used = self._pack(candidates, budget_tokens - min(prefix_tokens, share))
            window, start, n = fit_prefix(
                prefix, budget_tokens - used, self.count, hint, ratio, fill_for(budget_tokens)
            )
            self._starts[key] = (start, ratio)
            hint = start
            if len(window) > 256:
                self._ratio = max(0.05, n / len(window))
            if start == start_guess or build_pass == BUILD_PASSES - 1:
                break
            # The window does not start where guessed, so the snippets were chosen for another
            # window; the next request here guesses this start and would choose others, a new
            # front and a whole prefill. Build as it will: the first prompt at a new spot (a
            # warm-up's) is then the one the following keys extend.
            start_guess = start
        if start < start_guess:
            # The window reaches further up than guessed: imports and scope headers it now
            # shows are not repeated as snippets (the same set every keystroke after this).
            # Each is a subset of the one packed before, so the budget still holds.
            fewer = {s.kind: s for s in self._file_snippets(parsed, rel, request.offset, start)}
            chosen = [
                fewer[s.kind] if s.kind in ("import", "scope") else s
                for s in chosen
                if s.kind not in ("import", "scope") or s.kind in fewer
            ]
        if len(self._starts) > 256:
            self._starts.pop(next(iter(self._starts)))
        ring = {c.text: i for i, c in enumerate(self.recent.chunks())} if self.recent else {}

        def order(s: ContextSnippet) -> tuple[int, str, int, str]:
            # Recent chunks keep ring order (oldest first: a new chunk only appends).
            if s.kind == "recent":
                return (_ORDER["recent"], "", ring.get(s.text, 0), "")
            return (_ORDER.get(s.kind, 9), s.path, 0, s.text)

        chosen.sort(key=order)
        log.debug("context: prefix from %d, %d snippets (%d tokens)", start, len(chosen), used)
        return PromptParts(
            prefix=window,
            suffix=suffix,
            snippets=tuple(chosen),
            file_path=rel,
            language_id=snap.language_id,
        )

    def _candidates(
        self, request: CompletionRequest, parsed: ParsedDocument, rel: str, start: int, visible: str
    ) -> list[ContextSnippet]:
        """All snippet candidates in priority order (best first)."""
        out = self._file_snippets(parsed, rel, request.offset, start)
        if self.index is not None:
            key = request.document.uri
            defs, names = definition_snippets(
                self.index, parsed, request.offset, self._last_names.get(key, [])
            )
            self._last_names[key] = names
            if len(self._last_names) > 64:
                self._last_names.pop(next(iter(self._last_names)))
            out.extend(defs)
        if self.recent is not None:
            seen = {s for ln in visible.splitlines() if (s := ln.strip())}
            for chunk in reversed(self.recent.chunks()):  # newest first
                # Containment, not similarity: a chunk inside a long window is still on screen.
                shown = len(chunk.lines & seen) / max(1, len(chunk.lines))
                if shown <= VISIBLE_SHARE:
                    path = self.relative(chunk.path) or ""
                    out.append(ContextSnippet(path, chunk.text, "recent"))
        return out

    @staticmethod
    def _file_snippets(
        parsed: ParsedDocument, rel: str, offset: int, start: int
    ) -> list[ContextSnippet]:
        """The file's imports and the cursor's scope headers that lie above `start`."""
        out: list[ContextSnippet] = []
        imports = [imp for imp in imports_of(parsed) if imp.start < start]
        if imports:
            lines = "\n".join(imp.text for imp in imports).splitlines()[:MAX_IMPORT_LINES]
            out.append(ContextSnippet(rel, "\n".join(lines) + "\n", "import"))
        headers: list[str] = []
        for scope in scope_chain(parsed, offset):
            if scope.start < start:
                line_start = parsed.text.rfind("\n", 0, scope.start) + 1
                indent = parsed.text[line_start : scope.start]
                headers.append(indent + scope.header if not indent.strip() else scope.header)
        if headers:
            out.append(ContextSnippet(rel, "\n".join(headers) + "\n", "scope"))
        return out

    def _pack(
        self, candidates: list[ContextSnippet], budget: int
    ) -> tuple[list[ContextSnippet], int]:
        """Greedy by priority: take each candidate that still fits, skip the rest."""
        chosen: list[ContextSnippet] = []
        used = 0
        for snip in candidates:
            cost = self.count(snip.text) + HEADER_TOKENS
            if used + cost <= budget:
                chosen.append(snip)
                used += cost
        return chosen, used
