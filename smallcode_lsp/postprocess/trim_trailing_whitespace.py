"""Trim trailing whitespace of every line, and of the whole text unless the cursor line
continues right after it (then a trailing space may separate the completion from that text)."""

from __future__ import annotations

from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded


def make(config: FilterConfig) -> Filter:
    def trim_trailing_whitespace(text: str, ctx: FilterContext) -> str:
        lines = text.split("\n")
        last = lines[-1]
        lines = [ln.rstrip() for ln in lines[:-1]] + [last]
        out = "\n".join(lines)
        follows = ctx.line_suffix
        if not follows.strip() or follows[:1].isspace():
            return out.rstrip()
        # Text follows on the cursor line: keep the last line's spacing, drop blank tail lines.
        return out.rstrip("\n") if "\n" in out else out

    return guarded("trim_trailing_whitespace", trim_trailing_whitespace)
