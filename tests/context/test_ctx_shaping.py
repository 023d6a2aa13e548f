"""Shape decisions and the per-token SyntaxStopper, replaying real code as the "model output"."""

from __future__ import annotations

from pathlib import Path

import pytest
from tree_sitter import Node

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import Shape, SyntaxStopper, decide_shape
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _req(text: str, offset: int, language_id: str) -> tuple[CompletionRequest, ParsedDocument]:
    doc = DocumentSnapshot("file:///f", text, language_id)
    return CompletionRequest(doc, offset), ParsedDocument(text, language_id)


def _stream(stopper: SyntaxStopper, generated: str, step: int = 3) -> int | None:
    """Feed the text as a decoder would (a few chars per token); return the first cut."""
    for end in range(step, len(generated) + step, step):
        cut = stopper.check(generated[:end])
        if cut is not None:
            return cut
    return None


def _shape(text: str, offset: int, language_id: str) -> Shape:
    req, parsed = _req(text, offset, language_id)
    return decide_shape(req, parsed)


def test_python_block_after_def_header_stops_at_dedent() -> None:
    text = (FIXTURES / "py_stdlib/textwrap.py").read_text()
    header = text.index("def indent(text, prefix, predicate=None):")
    cursor = text.index("\n", header)
    body_end = text.index('\n\n\nif __name__ == "__main__":', cursor)
    hole = text[:cursor] + text[body_end:]
    req, parsed = _req(hole, cursor, "python")
    shape = decide_shape(req, parsed)
    assert (shape.single_line, shape.kind) == (False, "block")
    generated = text[cursor:]  # the model writes exactly the real body, then keeps going
    cut = _stream(SyntaxStopper(req, parsed, shape), generated)
    assert cut is not None
    assert generated[:cut].rstrip() == text[cursor:body_end].rstrip()


@pytest.mark.parametrize("keep_closer", [True, False])
def test_js_block_after_brace_stops_at_its_closer(keep_closer: bool) -> None:
    text = (FIXTURES / "js_graceful_fs/polyfills.js").read_text()
    header = text.index("  function patchLchmod (fs) {")
    cursor = text.index("{", header) + 1
    closer = text.index("\n  }\n", cursor)  # the function's closing brace, 2-space indent
    closer_end = closer + len("\n  }")
    hole = text[:cursor] + (text[closer:] if keep_closer else text[closer_end:])
    req, parsed = _req(hole, cursor, "javascript")
    shape = decide_shape(req, parsed)
    assert shape.kind == "block" and not shape.single_line
    generated = text[cursor:]
    cut = _stream(SyntaxStopper(req, parsed, shape), generated)
    assert cut is not None
    expected = text[cursor:closer] if keep_closer else text[cursor:closer_end]
    assert generated[:cut].rstrip() == expected.rstrip()


def _multiline_statement(doc: ParsedDocument, kinds: set[str]) -> Node:
    """First multi-line `kinds` statement in a function body that has a next sibling."""
    stack = [doc.root]
    while stack:
        node = stack.pop(0)
        multi = node.end_point[0] > node.start_point[0]
        nxt = node.next_named_sibling
        in_body = node.parent is not None and node.parent.type in ("block", "statement_block")
        if node.type in kinds and multi and in_body and nxt and "comment" not in nxt.type:
            return node
        stack.extend(node.named_children)
    raise AssertionError("no such statement")


@pytest.mark.parametrize(
    ("rel", "language_id"),
    [("py_stdlib/textwrap.py", "python"), ("js_graceful_fs/graceful-fs.js", "javascript")],
)
def test_statement_hole_stops_when_the_statement_parses(rel: str, language_id: str) -> None:
    text = (FIXTURES / rel).read_text()
    full = ParsedDocument(text, language_id)
    stmt = _multiline_statement(full, {"if_statement", "for_statement"})
    start, end = full.str_offset(stmt.start_byte), full.str_offset(stmt.end_byte)
    hole = text[:start] + text[end:]  # the line keeps its indentation and its newline
    req, parsed = _req(hole, start, language_id)
    shape = decide_shape(req, parsed)
    assert (shape.kind, shape.single_line) == ("statement", False), shape.reason
    generated = text[start:]
    cut = _stream(SyntaxStopper(req, parsed, shape), generated)
    assert cut is not None and generated[:cut] == text[start:end]


def test_mid_expression_is_single_line_and_stops_at_newline() -> None:
    text = (FIXTURES / "py_stdlib/bisect.py").read_text()
    cursor = text.index("lo = mid + 1") + len("lo = ")
    req, parsed = _req(text[:cursor] + text[text.index("\n", cursor) :], cursor, "python")
    shape = decide_shape(req, parsed)
    assert shape.single_line and shape.kind == "line"
    assert _stream(SyntaxStopper(req, parsed, shape), "mid + 1\n        else:\n") == len("mid + 1")


def test_text_after_cursor_means_single_line() -> None:
    text = (FIXTURES / "py_stdlib/bisect.py").read_text()
    assert _shape(text, text.index("mid + 1"), "python").single_line


def test_inside_comment_is_single_line() -> None:
    text = (FIXTURES / "js_graceful_fs/polyfills.js").read_text()
    cursor = text.index("\n", text.index("// This check is needed until node.js 12"))
    shape = _shape(text, cursor, "javascript")
    assert shape.single_line and shape.reason == "inside a string or comment"


def test_blank_line_after_header_is_a_block() -> None:
    text = "def f(x):\n    \n\nprint(f(1))\n"
    shape = _shape(text, text.index("    \n") + 4, "python")
    assert shape.kind == "block" and shape.block_indent == 4


def test_open_argument_list_is_multi_line_statement() -> None:
    text = (FIXTURES / "js_nopt/lib/nopt-lib.js").read_text()
    line = text.index("function nopt (args, {")
    cursor = line + len("function nopt (args, {")
    shape = _shape(text, cursor, "javascript")
    assert not shape.single_line


def test_unknown_language_still_shapes() -> None:
    text = "key: value\nother: "
    shape = _shape(text, len(text), "yaml")
    assert shape.single_line
