"""Never make the file's parse worse: if prefix+completion+suffix has more ERROR/MISSING nodes
than prefix+suffix, fall back to the longest line-prefix of the completion that does not, or
drop it. Re-parses are incremental edits of one copy of the tree.

A completion cut short by a deadline or preemption ends in a fragment of a line: its complete
lines are judged as above. The fragment itself is type-along material (`_w(s, en` before the
rest arrives) and keeps every word; only a dangling run of operators or openers at its end is
dropped when that makes the parse whole (`self.radius **` -> `self.radius`), so that
accepting it leaves no half-written expression. Fragments are judged by error count: a line
being typed grows its broken region until it is complete."""

from __future__ import annotations

import re

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


# A run of operators, openers or separators (not closers or quotes) at the end of a text.
_DANGLING = re.compile(r"[^\w\s)\]}\"'`]+\s*$")


class _Judge:
    """The document with a candidate completion inserted at the cursor, re-parsed per try."""

    def __init__(self, ctx: FilterContext) -> None:
        req = ctx.request
        src = ctx.parsed
        if src is None or src.text != req.document.text:
            src = ParsedDocument(req.document.text, req.document.language_id, req.document.path)
        self.usable = src.root is not None  # no grammar: nothing to judge by
        self.doc = src.copy() if self.usable else src
        self.base = error_score(self.doc.root)
        self.inside_error = self.usable and _inside_error(self.doc, req.offset)
        self.offset = req.offset
        self.at = self.doc.byte_offset(req.offset)
        self.current = ""

    def errors_with(self, candidate: str) -> tuple[int, int]:
        doc = self.doc
        doc.apply_edit(self.offset, self.offset + len(self.current), candidate)
        self.current = candidate
        count, damaged = error_score(doc.root)
        end = self.at + len(candidate.encode("utf-8"))
        if self.inside_error and not _error_starts_in(doc, self.at, end):
            # Text inserted inside a region that is already broken (an unclosed `{` above
            # the cursor) only grows that region: not a worse parse unless it adds errors.
            return count, min(damaged, self.base[1])
        return count, damaged


def make(config: FilterConfig) -> Filter:
    def limit_no_worse_parse(text: str, ctx: FilterContext) -> str:
        judge = _Judge(ctx)
        if not judge.usable:
            return text
        if not ctx.truncated:
            return check(text, judge)
        cut = text.rfind("\n")
        complete = text[: max(0, cut)]
        if complete.strip():
            checked = check(complete, judge)
            if checked != complete:
                return checked  # a broken complete line: the fragment after it goes too
        return shorten_fragment(text, max(0, cut + 1), judge)

    def check(text: str, judge: _Judge) -> str:
        base = judge.base
        worse = judge.errors_with(text)
        if worse <= base:
            return text
        lines = text.split("\n")
        cuts = ["\n".join(lines[:k]) for k in range(len(lines) - 1, 0, -1)]
        for candidate in cuts[: config.max_parse_tries]:
            if candidate.strip() and judge.errors_with(candidate) <= base:
                log.debug(
                    "limit_no_worse_parse: errors %s > %s; cut to %d lines",
                    worse, base, candidate.count("\n") + 1,
                )  # fmt: skip
                return candidate
        log.debug("limit_no_worse_parse: errors %s > %s, no clean cut; dropped", worse, base)
        return ""

    def shorten_fragment(text: str, fragment_start: int, judge: _Judge) -> str:
        """`text` without the dangling symbol runs that end its last line, if that adds no
        parse error where `text` does; else `text` unchanged. Words are never dropped."""
        cuts: list[str] = []
        cut = text
        while (m := _DANGLING.search(cut, fragment_start)) and len(cuts) < config.max_parse_tries:
            cut = cut[: m.start()].rstrip()
            cuts.append(cut)
        if not cuts:
            return text  # ends in a word or a closer: nothing dangling
        base = judge.base[0]
        if judge.errors_with(text)[0] <= base:
            return text
        for candidate in cuts:
            if candidate[fragment_start:].strip() and judge.errors_with(candidate)[0] <= base:
                log.debug("limit_no_worse_parse: dropped a dangling %r", text[len(candidate) :])
                return candidate
        return text

    return guarded("limit_no_worse_parse", limit_no_worse_parse)
