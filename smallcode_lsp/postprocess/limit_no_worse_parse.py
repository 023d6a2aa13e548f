"""Never make the file's parse worse: if prefix+completion+suffix has more ERROR/MISSING nodes
than prefix+suffix, fall back to the longest line-prefix of the completion that does not, or
drop it. Re-parses are incremental edits of one copy of the tree."""

from __future__ import annotations

from smallcode_lsp.context.document import ParsedDocument, error_score
from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log


def make(config: FilterConfig) -> Filter:
    def limit_no_worse_parse(text: str, ctx: FilterContext) -> str:
        req = ctx.request
        src = ctx.parsed
        if src is None or src.text != req.document.text:
            src = ParsedDocument(req.document.text, req.document.language_id, req.document.path)
        if src.root is None:
            return text  # no grammar: nothing to judge by
        doc = src.copy()
        base = error_score(doc.root)
        off = req.offset
        current = ""

        def errors_with(candidate: str) -> tuple[int, int]:
            nonlocal current
            doc.apply_edit(off, off + len(current), candidate)
            current = candidate
            return error_score(doc.root)

        worse = errors_with(text)
        if worse <= base:
            return text
        lines = text.split("\n")
        cuts = ["\n".join(lines[:k]) for k in range(len(lines) - 1, 0, -1)]
        for candidate in cuts[: config.max_parse_tries]:
            if candidate.strip() and errors_with(candidate) <= base:
                log.debug(
                    "limit_no_worse_parse: errors %s > %s; cut to %d lines",
                    worse, base, candidate.count("\n") + 1,
                )  # fmt: skip
                return candidate
        log.debug("limit_no_worse_parse: errors %s > %s, no clean cut; dropped", worse, base)
        return ""

    return guarded("limit_no_worse_parse", limit_no_worse_parse)
