"""RecentSnippets ring: capacity, similarity eviction, stable order."""

from __future__ import annotations

from pathlib import Path

from smallcode_lsp.workspace.recent import RecentSnippets, chunk_similarity

FIXTURES = Path(__file__).parents[1] / "fixtures"
TEXTWRAP = (FIXTURES / "py_stdlib/textwrap.py").read_text().splitlines()


def _chunk(start: int, n: int = 40) -> str:
    return "\n".join(TEXTWRAP[start : start + n])


def test_capacity_keeps_newest() -> None:
    ring = RecentSnippets(max_chunks=4, chunk_lines=40)
    for start in range(0, 400, 50):  # 8 distinct regions
        assert ring.add("textwrap.py", _chunk(start))
    chunks = ring.chunks()
    assert len(chunks) == 4
    assert chunks[-1].text.startswith(TEXTWRAP[350])


def test_similar_chunk_replaces_the_old_one() -> None:
    ring = RecentSnippets(max_chunks=8, chunk_lines=40)
    ring.add("textwrap.py", _chunk(100))
    ring.add("textwrap.py", _chunk(300))
    assert ring.add("textwrap.py", _chunk(101))  # the same region, scrolled by one line
    starts = [c.text.splitlines()[0] for c in ring.chunks()]
    assert starts == [TEXTWRAP[300], TEXTWRAP[101]]


def test_identical_chunk_keeps_order() -> None:
    ring = RecentSnippets()
    ring.add("a.py", _chunk(0))
    ring.add("b.py", _chunk(200))
    assert not ring.add("a.py", _chunk(0))
    assert [c.path for c in ring.chunks()] == ["a.py", "b.py"]


def test_long_text_is_cut_to_chunk_lines_and_tiny_text_ignored() -> None:
    ring = RecentSnippets(chunk_lines=16)
    assert ring.add("t.py", _chunk(0, 200))
    assert len(ring.chunks()[0].text.splitlines()) == 16
    assert not ring.add("t.py", "\n\n  x\n")


def test_add_around_cursor() -> None:
    ring = RecentSnippets(chunk_lines=10)
    text = "\n".join(TEXTWRAP)
    offset = text.index("def dedent(text):")
    ring.add_around("textwrap.py", text, offset)
    assert "def dedent(text):" in ring.chunks()[0].text


def test_similarity() -> None:
    a = _chunk(100).splitlines()
    assert chunk_similarity(a, a) == 1.0
    assert chunk_similarity(a, _chunk(300).splitlines()) < 0.2
    assert chunk_similarity([], a) == 0.0
