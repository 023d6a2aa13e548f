"""The post-processing chain: one ordered tuple of filters, run after generation."""

from __future__ import annotations

from functools import cache

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import Shape
from smallcode_lsp.postprocess import (
    drop_blank,
    drop_dangling_operator,
    limit_no_worse_parse,
    limit_to_block,
    remove_next_line_repeat,
    remove_repetition,
    remove_suffix_duplication,
    remove_unbalanced_closers,
    trim_leading_space,
    trim_trailing_whitespace,
)
from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext
from smallcode_lsp.types import CompletionRequest

# Order matters: cut loops and shape first (cheap, shrink the text), then suffix-aware
# trimming, then whitespace, then a cut-short answer's dangling operator, then the parse check
# on what is left, then drop what is empty.
FILTERS = (
    remove_repetition,
    limit_to_block,
    remove_next_line_repeat,
    remove_suffix_duplication,
    remove_unbalanced_closers,
    trim_leading_space,
    trim_trailing_whitespace,
    drop_dangling_operator,
    limit_no_worse_parse,
    drop_blank,
)


@cache
def make_chain(config: FilterConfig = FilterConfig()) -> tuple[Filter, ...]:  # noqa: B008
    """The filters built for `config` (cached: configs are frozen)."""
    return tuple(module.make(config) for module in FILTERS)


def postprocess(
    text: str,
    request: CompletionRequest,
    parsed: ParsedDocument | None,
    shape: Shape,
    config: FilterConfig | None = None,
    truncated: bool = False,
) -> str:
    """Run the chain; "" means there is nothing worth showing.

    `truncated`: generation was cut short, so the text's last line is a fragment.
    """
    ctx = FilterContext(request, parsed, shape, truncated)
    for flt in make_chain(config or FilterConfig()):
        text = flt(text, ctx)
        if not text:
            return ""
    return text
