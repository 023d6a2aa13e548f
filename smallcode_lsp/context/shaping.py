"""Syntax-aware completion shape: how much to generate, and when to stop while decoding.

`decide_shape` looks at the syntax at the cursor once; `SyntaxStopper.check` runs after every
decoded token, so it only does work when a line was completed (a newline was generated).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from smallcode_lsp.context.brackets import (
    CLOSERS,
    bracket_depths,
    first_unmatched_closer,
    indent_width,
    opener_line_indent,
)
from smallcode_lsp.context.document import ParsedDocument, error_score
from smallcode_lsp.languages import language_key
from smallcode_lsp.types import CompletionRequest

log = logging.getLogger("smallcode_lsp.context")

_PY_BLOCK = re.compile(
    r"^\s*(async\s+)?(def|class|if|elif|else|for|while|with|try|except|finally|match|case)\b.*:$"
)
_TRAILING_SUFFIX_OK = re.compile(r"^[\s)\]}'\"`;,:]*$")  # only closers after the cursor
_CONTINUES = (":", "{", "(", "[", ",", "\\", "=", "+", "-", "*", "/", "&&", "||", " and", " or")
_STRING_OR_COMMENT = {
    "string", "string_content", "comment", "template_string", "line_comment", "block_comment",
    "string_literal", "raw_string_literal", "interpreted_string_literal", "char_literal",
    "string_fragment",
}  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """What kind of completion fits the cursor.

    kind: "line" (rest of the current line), "block" (a body after an opener, or the rest of a
    body: stops on dedent / closing the enclosing bracket), "statement" (a hole between existing
    lines: stops as soon as the file parses no worse than without it).
    block_indent: generated lines (after the first) indented less than this many columns end it.
    """

    single_line: bool
    indent: str
    kind: str = "line"
    block_indent: int = 0
    reason: str = ""


def _opens_block(line: str, key: str | None) -> bool:
    s = line.rstrip()
    if key == "python":
        return bool(_PY_BLOCK.match(s))
    if key is None:  # plain text: either convention
        return s.endswith("{") or bool(_PY_BLOCK.match(s))
    return s.endswith("{")


def _neighbour(lines: list[str], row: int, step: int) -> str | None:
    row += step
    while 0 <= row < len(lines):
        if lines[row].strip():
            return lines[row]
        row += step
    return None


def _in_string_or_comment(parsed: ParsedDocument | None, offset: int) -> bool:
    if parsed is None or parsed.root is None:
        return False
    node = parsed.node_at(offset)
    b = parsed.byte_offset(offset)
    while node is not None and node.type not in _STRING_OR_COMMENT:
        node = node.parent
    if node is None:
        return False
    # A line comment ends where the cursor sits when typing at its end: still inside.
    at_end_ok = "comment" in node.type
    return node.start_byte < b < node.end_byte or (at_end_ok and b == node.end_byte)


def decide_shape(request: CompletionRequest, parsed: ParsedDocument | None) -> Shape:
    """Single line vs block vs statement, from the syntax around the cursor."""
    text, off = request.document.text, request.offset
    key = (
        parsed.language_key
        if parsed is not None
        else language_key(request.document.language_id, request.document.path)
    )
    start = text.rfind("\n", 0, off) + 1
    end = text.find("\n", off)
    line_prefix, line_suffix = text[start:off], text[off : len(text) if end < 0 else end]
    indent = line_prefix[: len(line_prefix) - len(line_prefix.lstrip(" \t"))]
    width = indent_width(line_prefix)
    if not _TRAILING_SUFFIX_OK.match(line_suffix):
        return Shape(True, indent, "line", width, "text after the cursor")
    if _in_string_or_comment(parsed, off):
        return Shape(True, indent, "line", width, "inside a string or comment")
    if line_prefix.strip():
        if _opens_block(line_prefix, key):
            return Shape(False, indent, "block", width + 1, "block opener before the cursor")
        if line_prefix.rstrip().endswith(("(", "[", ",")) and not line_suffix.strip():
            return Shape(False, indent, "statement", width, "open argument list")
        return Shape(True, indent, "line", width, "mid-expression")
    lines = text.split("\n")
    row = text.count("\n", 0, off)
    prev, nxt = _neighbour(lines, row, -1), _neighbour(lines, row, +1)
    if prev is not None and _opens_block(prev, key):
        # The editor's auto-indent knows the file's style: trust the cursor's column if any.
        body = width if width > 0 else indent_width(prev) + 1
        return Shape(False, indent, "block", body, "first line of a new block")
    if nxt is not None and indent_width(nxt) >= width and nxt.strip()[:1] not in CLOSERS:
        return Shape(False, indent, "statement", width, "between statements")
    return Shape(False, indent, "block", width, "end of a body")


class SyntaxStopper:
    """Per-token stop rule: `check(generated)` returns a cut index or None (keep going)."""

    def __init__(
        self, request: CompletionRequest, parsed: ParsedDocument | None, shape: Shape
    ) -> None:
        self.request = request
        self.shape = shape
        self._lines_done = 0  # generated lines already judged (dedent/bracket rules)
        self._doc: ParsedDocument | None = None
        self._inserted = ""  # what the incremental copy currently holds at the cursor
        self._baseline: tuple[int, int] | None = None
        self._parsed = parsed

    def _errors_with(self, inserted: str) -> tuple[int, int]:
        """Error count of prefix + inserted + suffix, reparsed incrementally."""
        if self._doc is None:
            src = self._parsed
            same = src is not None and src.text == self.request.document.text
            self._doc = (
                src.copy()
                if same and src is not None
                else ParsedDocument(
                    self.request.document.text,
                    self.request.document.language_id,
                    self.request.document.path,
                )
            )
            self._baseline = error_score(self._doc.root)
        off = self.request.offset
        self._doc.apply_edit(off, off + len(self._inserted), inserted)
        self._inserted = inserted
        return error_score(self._doc.root)

    def _self_contained(self) -> bool:
        """No node that starts inside the inserted text runs on into the suffix: `if (x)` or
        `if x:` parse fine by swallowing the next line, but they are not complete."""
        doc = self._doc
        if doc is None or doc.root is None:
            return True
        off = self.request.offset
        start = doc.byte_offset(off)
        end = doc.byte_offset(off + len(self._inserted.rstrip()))
        node = doc.root.descendant_for_byte_range(max(start, end - 1), end)
        while node is not None and node.start_byte >= start:
            if node.end_byte > end:
                return False
            node = node.parent
        return True

    def check(self, generated: str) -> int | None:
        """Cut index into `generated` when generation should stop, else None."""
        if self.shape.single_line:
            return _single_line_cut(generated, final=False)
        if "\n" not in generated[self._lines_done :] and self._lines_done:
            return None
        return self._check_lines(generated, final=False)

    def finish(self, text: str) -> int:
        """The cut for a finished text (post-processing uses the same rules)."""
        if self.shape.single_line:
            cut = _single_line_cut(text, final=True)
            return len(text) if cut is None else cut
        cut = self._check_lines(text + "\n", final=True)
        return len(text) if cut is None else min(cut, len(text))

    def _check_lines(self, generated: str, final: bool) -> int | None:
        pos = 0
        first = True
        while True:
            nl = generated.find("\n", pos)
            if nl < 0:
                return None
            line = generated[pos:nl]
            if pos >= self._lines_done or final:
                cut = self._judge_line(generated, pos, nl, line, first, final)
                if cut is not None:
                    return cut
                self._lines_done = nl + 1
            first = False
            pos = nl + 1

    def _judge_line(
        self, generated: str, pos: int, nl: int, line: str, first: bool, final: bool
    ) -> int | None:
        shape = self.shape
        depth, low = bracket_depths(generated[:nl])
        if low < 0:
            # Closed a bracket opened before the cursor: the enclosing node is complete.
            closer_at = first_unmatched_closer(generated[:nl])
            if closer_present(self.request, generated[:closer_at]):
                keep = generated[pos:closer_at]
                return closer_at if keep.strip() else max(0, pos - 1)
            return nl
        if not first and line.strip() and indent_width(line) < shape.block_indent:
            return max(0, pos - 1)  # dedent: the block is over
        if (
            shape.kind == "statement"
            and not final
            and depth == 0
            and generated[:nl].strip()
            and not line.rstrip().endswith(_CONTINUES)
        ):
            errors = self._errors_with(generated[:nl])
            if self._baseline is not None and errors <= self._baseline and self._self_contained():
                log.debug("stop: statement complete after %d chars", nl)
                return nl
        return None


def closer_present(request: CompletionRequest, generated: str) -> bool:
    """Would a closer generated after `generated` duplicate one already in the suffix?

    True when the suffix's next non-blank character is that closer and it sits on the cursor
    line, or on a later line indented like the opener's line (how code is formatted); a `}`
    further out closes an outer block instead.
    """
    suffix = request.suffix
    head = suffix.lstrip()
    if not head or head[0] not in CLOSERS:
        return False
    closer = head[0]
    text = request.prefix + generated
    opener_indent = opener_line_indent(text, closer)
    if opener_indent is None:
        return False
    gap = suffix[: len(suffix) - len(head)]
    if "\n" not in gap:
        return True
    line_start = suffix.rfind("\n", 0, len(gap)) + 1
    return indent_width(suffix[line_start:]) == opener_indent


def _single_line_cut(text: str, final: bool) -> int | None:
    """End of the first line that has text. A completion may start with one newline (the
    cursor line was complete): then the next line is the one line (as the engine's rule)."""
    nl = text.find("\n")
    if nl < 0:
        return None
    if text[:nl].strip():
        return nl
    second = text.find("\n", nl + 1)
    if second >= 0:
        return second if text[nl + 1 : second].strip() else nl
    return len(text) if final else None
