"""Never make the file's parse worse: if prefix+completion+suffix has more ERROR/MISSING nodes
than prefix+suffix, fall back to the longest line-prefix of the completion that does not, or
drop it. Re-parses are incremental edits of one copy of the tree.

A completion cut short by a deadline or preemption ends in a fragment of a line that no parser
can judge ("(path" before the rest arrives): only its complete lines are checked here (the
fragment's dangling end is drop_dangling_operator's), and as if closed when they open a
construct (a docstring's quotes, an argument list) that the rest will close."""

from __future__ import annotations

from smallcode_lsp.context.brackets import closers
from smallcode_lsp.context.document import ParsedDocument, error_score
from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log


def _error_starts_in(doc: ParsedDocument, start: int, end: int) -> bool:
    """Does an ERROR or MISSING node begin inside the inserted bytes [start, end)?"""
    root = doc.root
    stack = [root] if root is not None and root.has_error else []
    while stack:
        node = stack.pop()
        if (node.is_error or node.is_missing) and start <= node.start_byte < end:
            return True
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return False


def _inside_error(doc: ParsedDocument, offset: int) -> bool:
    """True when the cursor sits inside (or just after, past whitespace) an ERROR region that
    began on an earlier line: an unclosed construct being typed (the `{` of a dict), which no
    completion of this line is expected to close. A broken statement on the cursor's own line
    (`lo = `) does not count: there a good completion fixes the error."""
    root = doc.root
    if root is None or not root.has_error:
        return False
    at = doc.byte_offset(offset)
    line_start = doc.byte_offset(doc.text.rfind("\n", 0, offset) + 1)
    data = doc.text.encode("utf-8")
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error:
            if node.start_byte < line_start and (
                node.end_byte >= at or not data[node.end_byte : at].strip()
            ):
                return True
            continue
        stack.extend(c for c in node.children if c.has_error)
    return False


def make(config: FilterConfig) -> Filter:
    def limit_no_worse_parse(text: str, ctx: FilterContext) -> str:
        if ctx.truncated:
            complete = text[: max(0, text.rfind("\n"))]
            if not complete.strip():
                return text  # one fragment of a line: nothing to judge yet
            checked = check(complete, ctx)
            if checked == complete:
                return text
            # Cut inside a construct it opened (a docstring's first lines, an argument list):
            # judged as if closed, since the rest is still to come.
            tail = closers(complete)
            closed = f"{complete}\n{tail}"
            return text if tail and check(closed, ctx) == closed else checked
        return check(text, ctx)

    def check(text: str, ctx: FilterContext) -> str:
        req = ctx.request
        src = ctx.parsed
        if src is None or src.text != req.document.text:
            src = ParsedDocument(req.document.text, req.document.language_id, req.document.path)
        if src.root is None:
            return text  # no grammar: nothing to judge by
        doc = src.copy()
        base = error_score(doc.root)
        inside_error = _inside_error(doc, req.offset)
        at = doc.byte_offset(req.offset)
        off = req.offset
        current = ""

        def errors_with(candidate: str) -> tuple[int, int]:
            nonlocal current
            doc.apply_edit(off, off + len(current), candidate)
            current = candidate
            count, damaged = error_score(doc.root)
            if inside_error and not _error_starts_in(doc, at, at + len(candidate.encode("utf-8"))):
                # Text inserted inside a region that is already broken (an unclosed `{` above
                # the cursor) only grows that region: not a worse parse unless it adds errors.
                return count, min(damaged, base[1])
            return count, damaged

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
