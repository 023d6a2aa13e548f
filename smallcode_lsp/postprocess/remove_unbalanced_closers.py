"""Remove closing brackets at the end of the completion that close something opened before
the cursor when the text after the cursor already has them: `foo(|)` + `a, b)` -> `a, b`."""

from __future__ import annotations

from smallcode_lsp.context.brackets import CLOSERS, OPENERS, PAIRS
from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log


def _unmatched_closers(text: str) -> list[int]:
    """Positions of closers in `text` with no opener before them in `text` (strings skipped)."""
    stack: list[str] = []
    out: list[int] = []
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in OPENERS:
            stack.append(ch)
        elif ch in CLOSERS:
            if stack and stack[-1] == PAIRS[ch]:
                stack.pop()
            else:
                out.append(i)
        elif ch == "\n":
            quote = ""
    return out


def make(config: FilterConfig) -> Filter:
    def remove_unbalanced_closers(text: str, ctx: FilterContext) -> str:
        stray = _unmatched_closers(text)
        if not stray:
            return text
        first = stray[0]
        tail = text[first:]
        # Only a trailing run of closers (and ; , whitespace) can be the suffix's own closers.
        if tail.strip(" \t\n;,)]}"):
            return text
        closers = "".join(ch for ch in tail if ch in CLOSERS)
        # Only closers right after the cursor on its line count: a `)` on a later line closes
        # something else (block closers on later lines are limit_to_block's business).
        rest = ctx.line_suffix
        run = rest[: len(rest) - len(rest.lstrip(" \t;,)]}"))]
        after = "".join(ch for ch in run if ch in CLOSERS)
        # Extra closers beyond the suffix's own are stray too: the completion overshot.
        if after.startswith(closers) or (after and closers.startswith(after)):
            log.debug("remove_unbalanced_closers: %r already follows the cursor", closers)
            return text[:first]
        return text

    return guarded("remove_unbalanced_closers", remove_unbalanced_closers)
