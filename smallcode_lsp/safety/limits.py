"""Bound the work one completion does on a huge document.

Everything downstream of a request (tokenizing the prefix to fit the prompt budget, parsing,
post-processing) is at least linear in the document, and Gemma's SPM tokenizer is worse: 100 KB
of Python tokenizes in ~0.1 s, 1 MB in ~18 s (measured, benchmarks/big_files.py). The prompt
holds ~2K tokens (~8K chars) anyway, so a completion only needs a window around the cursor.
"""

from __future__ import annotations

WINDOW_BEFORE = 32_768  # chars before the cursor: ~4x the prompt budget of ~8K chars
WINDOW_AFTER = 16_384  # chars after the cursor
ALIGN_LINES = 32  # = prompt_window.ANCHOR_LINES: start on the same line grid as the full file


def document_window(text: str, offset: int) -> tuple[int, int]:
    """[start, end) of the part of `text` a completion at `offset` needs.

    The whole text when it is small. Otherwise the start is a line start whose absolute line
    number is a multiple of ALIGN_LINES (so the prompt's anchored prefix, and the KV cache,
    are the same as with the whole file) unless that line is too long: then it cuts mid-line.
    """
    if len(text) <= WINDOW_BEFORE + WINDOW_AFTER:
        return 0, len(text)
    offset = max(0, min(offset, len(text)))
    return _start(text, offset), _end(text, offset)


def _start(text: str, offset: int) -> int:
    earliest = offset - 2 * WINDOW_BEFORE  # never more than twice the window
    want = offset - WINDOW_BEFORE
    if want <= 0:
        return 0
    start = text.rfind("\n", 0, want) + 1  # start of the line holding `want`
    if start <= max(earliest, 0):
        return max(want, 0)  # a very long line (minified code): cut inside it
    line = text.count("\n", 0, start)
    for _ in range(line % ALIGN_LINES):  # back to the previous anchor line
        previous = text.rfind("\n", 0, start - 1) + 1
        if previous < earliest:
            return start  # unaligned, but bounded
        start = previous
    return start


def _end(text: str, offset: int) -> int:
    want = offset + WINDOW_AFTER
    if want >= len(text):
        return len(text)
    line_end = text.find("\n", want)
    if line_end == -1 or line_end - want > WINDOW_AFTER:
        return want
    return line_end + 1
