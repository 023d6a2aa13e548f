"""Limit the completion to its shape: one line, or the block (dedent / closing the enclosing
bracket). The same rules as the engine's per-token SyntaxStopper, for text produced without it
(type-ahead cache, a backend that could not stop early)."""

from __future__ import annotations

from smallcode_lsp.context.shaping import SyntaxStopper
from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log


def make(config: FilterConfig) -> Filter:
    def limit_to_block(text: str, ctx: FilterContext) -> str:
        cut = SyntaxStopper(ctx.request, ctx.parsed, ctx.shape).finish(text)
        if cut < len(text):
            log.debug("limit_to_block: %s cut at %d of %d", ctx.shape.kind, cut, len(text))
        return text[:cut]

    return guarded("limit_to_block", limit_to_block)
