"""document_window: bounded, contains the cursor, and yields the same prompt prefix as the file."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.big_files import minified_js, python_source
from smallcode_lsp.prompt_window import prefix_window
from smallcode_lsp.safety.limits import ALIGN_LINES, WINDOW_AFTER, WINDOW_BEFORE, document_window

BIG = python_source(10_000_000)


def cheap_tokens(text: str) -> int:
    return len(text) // 3 + text.count("\n")


def test_small_documents_are_whole() -> None:
    text = python_source(WINDOW_BEFORE + WINDOW_AFTER)
    assert document_window(text, 5) == (0, len(text))


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="ab\n😀\r", min_size=0, max_size=200_000).map(lambda t: t * 3),
    where=st.floats(0, 1),
)
def test_window_is_bounded_and_holds_the_cursor(text: str, where: float) -> None:
    offset = int(len(text) * where)
    start, end = document_window(text, offset)
    assert 0 <= start <= offset <= end <= len(text)
    assert offset - start <= 2 * WINDOW_BEFORE
    assert end - offset <= 2 * WINDOW_AFTER


def test_big_file_window_is_anchored_and_keeps_the_prompt() -> None:
    for offset in (len(BIG) // 3, len(BIG) // 2 + 17, len(BIG) - 5):
        started = time.perf_counter()
        start, _end = document_window(BIG, offset)
        assert time.perf_counter() - started < 0.5
        assert BIG.count("\n", 0, start) % ALIGN_LINES == 0
        assert start == 0 or BIG[start - 1] == "\n"
        full = prefix_window(BIG[:offset], 2048, cheap_tokens)
        windowed = prefix_window(BIG[start:offset], 2048, cheap_tokens)
        assert windowed == full


def test_window_start_is_stable_while_typing() -> None:
    offset = len(BIG) // 2
    starts = {document_window(BIG, offset + i)[0] for i in range(40)}
    assert len(starts) == 1


def test_minified_one_line_is_cut_inside_the_line() -> None:
    text = minified_js(10_000_000)
    offset = len(text) - 100
    start, end = document_window(text, offset)
    assert offset - start == WINDOW_BEFORE
    assert end == len(text)
