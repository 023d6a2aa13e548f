"""A completion cut short by a deadline or preemption ends in a fragment of a line that type-ahead
and the prefetch will continue. Its words stay (`_w(s, en` before the rest arrives), but a run
of operators, openers or separators at its very end goes when that makes the line whole
(`self.radius **` -> `self.radius`): accepting the fragment then leaves no half-written
expression. A header's `:` or `{` stays, since dropping it parses no better.

The judge is the completed line parsed on its own (dedented): whole-file re-parses with an
error cost ~10 ms in JavaScript, too slow for answers that are cut short to be quick."""

from __future__ import annotations

import re

from smallcode_lsp.context.document import error_score
from smallcode_lsp.languages import language_for, parse_text
from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded

# A run of operators, openers or separators (not closers or quotes) at the end of a text.
_DANGLING = re.compile(r"[^\w\s)\]}\"'`]+\s*$")
MAX_STRIPS = 4  # `x = (` -> `x =` -> `x`: a few runs at most


def make(config: FilterConfig) -> Filter:
    def drop_dangling_operator(text: str, ctx: FilterContext) -> str:
        if not ctx.truncated:
            return text
        start = text.rfind("\n") + 1  # the fragment: the text's last line
        cuts: list[str] = []
        cut = text
        while len(cuts) < MAX_STRIPS and (m := _DANGLING.search(cut, start)):
            cut = cut[: m.start()].rstrip()
            cuts.append(cut)
        if not cuts:
            return text  # ends in a word, a closer or a quote
        doc = ctx.request.document
        language = language_for(doc.language_id, doc.path)
        if language is None:
            return text
        # The fragment's whole line: on the cursor's line it sits between the line's two parts.
        before = ctx.line_prefix if start == 0 else ""
        after = ctx.line_suffix

        def errors(fragment: str) -> int:
            line = (before + fragment + after).lstrip()
            return error_score(parse_text(language, line).root_node)[0]

        base = errors("")
        worst = errors(text[start:])
        if worst <= base:
            return text  # the line parses no worse with it: nothing dangles
        for candidate in cuts:
            if candidate[start:].strip() and errors(candidate[start:]) <= base:
                return candidate
        return text

    return guarded("drop_dangling_operator", drop_dangling_operator)
