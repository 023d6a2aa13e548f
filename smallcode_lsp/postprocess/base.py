"""Shared pieces of the post-processing filters (Tabby style: one small filter per module).

A filter takes the completion text and the context and returns the rewritten text; "" means
dropped. Filters never raise: `guarded` turns an exception into "leave the text unchanged".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import Shape
from smallcode_lsp.types import CompletionRequest

log = logging.getLogger("smallcode_lsp.postprocess")


@dataclass(frozen=True, kw_only=True)
class FilterConfig:
    """Thresholds for the filters; every field defaulted."""

    # remove_repetition: a line repeated this many times in a row at the end is a loop.
    max_same_lines: int = 2
    # remove_suffix_duplication: minimum chars of overlap with the cursor line's rest to trim.
    min_overlap_chars: int = 4
    # limit_no_worse_parse: at most this many shorter cuts are re-parsed.
    max_parse_tries: int = 12


@dataclass(frozen=True)
class FilterContext:
    request: CompletionRequest
    parsed: ParsedDocument | None
    shape: Shape
    truncated: bool = False  # cut short by a deadline or preemption: the last line is partial

    @property
    def line_suffix(self) -> str:
        """The rest of the cursor line after the cursor."""
        s = self.request.suffix
        nl = s.find("\n")
        return s if nl < 0 else s[:nl]

    @property
    def line_prefix(self) -> str:
        p = self.request.prefix
        return p[p.rfind("\n") + 1 :]

    def next_lines(self, n: int, keep_indent: bool = False) -> list[str]:
        """The next `n` non-blank lines after the cursor line (stripped, or only rstripped)."""
        rest = self.request.suffix.split("\n")[1:]
        lines = [ln.rstrip() if keep_indent else ln.strip() for ln in rest if ln.strip()]
        return lines[:n]


Filter = Callable[[str, FilterContext], str]


def guarded(name: str, fn: Filter) -> Filter:
    """Wrap a filter so that a bug in it costs the filter, never the completion."""

    def run(text: str, ctx: FilterContext) -> str:
        if not text:
            return text
        try:
            out = fn(text, ctx)
        except Exception:
            log.exception("%s failed; text left unchanged", name)
            return text
        if out != text:
            log.debug("%s: %r -> %r", name, text[-80:], out[-80:])
        return out

    run.__name__ = name
    return run
