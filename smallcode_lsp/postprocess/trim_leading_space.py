"""Trim spaces at the start of the completion when the cursor already sits after whitespace
(`x = |` + ` 1` would give `x =  1`; a re-indented first line would double the indent)."""

from __future__ import annotations

from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded


def make(config: FilterConfig) -> Filter:
    def trim_leading_space(text: str, ctx: FilterContext) -> str:
        before = ctx.line_prefix
        if before and before[-1] in " \t" and text[:1] in (" ", "\t"):
            return text.lstrip(" \t")
        return text

    return guarded("trim_leading_space", trim_leading_space)
