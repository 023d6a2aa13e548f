"""Drop completions that are empty or whitespace only: nothing worth showing."""

from __future__ import annotations

from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log


def make(config: FilterConfig) -> Filter:
    def drop_blank(text: str, ctx: FilterContext) -> str:
        if text.strip():
            return text
        log.debug("drop_blank: whitespace-only completion dropped")
        return ""

    return guarded("drop_blank", drop_blank)
