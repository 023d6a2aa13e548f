"""ParsedDocument: incremental edits must give the same tree as a full parse."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from smallcode_lsp.context.document import ParsedDocument, count_errors

FIXTURES = Path(__file__).parents[1] / "fixtures"
INSERTS = ["é", "日本語", "🙂", "x", "\n", "    ", "(", ")", "def g():\n    pass\n", "{ }", "'"]


def _random_edits(path: Path, language_id: str, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    text = path.read_text()
    doc = ParsedDocument(text, language_id, str(path))
    for _ in range(steps):
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 0, 1, 3, 20]))
        new = rng.choice(INSERTS)
        doc.apply_edit(start, end, new)
        text = text[:start] + new + text[end:]
        assert doc.text == text
        full = ParsedDocument(text, language_id)
        assert str(doc.root) == str(full.root)
        assert doc.root is not None
        assert doc.root.end_byte == len(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("rel", "language_id"),
    [
        ("py_stdlib/textwrap.py", "python"),
        ("py_json/json/scanner.py", "python"),
        ("js_graceful_fs/clone.js", "javascript"),
        ("js_nopt/lib/type-defs.js", "javascript"),
    ],
)
def test_incremental_equals_full_parse_after_random_edits(rel: str, language_id: str) -> None:
    _random_edits(FIXTURES / rel, language_id, seed=len(rel), steps=25)


def test_non_ascii_positions_map_to_bytes() -> None:
    doc = ParsedDocument("s = 'é日'\nt = 1\n", "python")
    i = doc.text.index("t")
    assert doc.byte_offset(i) == len("s = 'é日'\n".encode())
    assert doc.point(i) == (1, 0)
    assert doc.point(doc.text.index("'", 5)) == (0, len("s = 'é日".encode()))
    doc.apply_edit(5, 6, "🙂🙂")  # replace é with two astral chars (4 bytes each)
    assert str(doc.root) == str(ParsedDocument(doc.text, "python").root)
    assert doc.node_text(doc.root.named_children[1]) == "t = 1"


def test_edit_to_broken_and_back_counts_errors() -> None:
    text = (FIXTURES / "py_stdlib/bisect.py").read_text()
    doc = ParsedDocument(text, "python")
    assert count_errors(doc.root) == 0
    at = text.index("def insort_left")
    doc.apply_edit(at, at, "def broken(:\n")
    assert count_errors(doc.root) > 0
    doc.apply_edit(at, at + len("def broken(:\n"), "")
    assert count_errors(doc.root) == 0 and doc.text == text


def test_plain_text_fallback() -> None:
    doc = ParsedDocument("hello\nworld", "markdown", "/tmp/readme.md")
    assert doc.tree is None and doc.root is None
    doc.apply_edit(0, 5, "bye")
    assert doc.text == "bye\nworld"
    assert doc.node_at(2) is None


def test_copy_is_independent() -> None:
    doc = ParsedDocument("x = 1\n", "python")
    other = doc.copy()
    other.apply_edit(0, 0, "y = (\n")
    assert doc.text == "x = 1\n" and count_errors(doc.root) == 0
    assert count_errors(other.root) > 0


def test_offset_at_lsp_positions() -> None:
    doc = ParsedDocument("a🙂b\nxé\n", "python")
    assert doc.offset_at(0, 0) == 0
    assert doc.offset_at(0, 3) == 2  # the emoji is two UTF-16 units, one str index
    assert doc.offset_at(1, 1) == doc.text.index("é")
    assert doc.offset_at(1, 99) == doc.text.index("\n", 4)  # clamped to the line end
    assert doc.offset_at(9, 0) == len(doc.text)
