"""Stop rules: pure functions of the text generated so far, checked after every token.

A rule returns the index at which to cut the generated text and stop, or None to go on.
These are the indentation-based rules; syntax-aware stopping plugs in through the same type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

StopRule = Callable[[str], int | None]


def first_cut(rules: Sequence[StopRule], text: str) -> int | None:
    """The cut of the first rule that fires, if any."""
    for rule in rules:
        cut = rule(text)
        if cut is not None:
            return cut
    return None


def first_line_end(text: str, start: int = 0) -> int | None:
    """Where the first line with text from `start` on ends (the blank lines and indentation
    before it are part of it): an answer cut to its line at the deadline."""
    body = len(text) - len(text[start:].lstrip())
    end = text.find("\n", body)
    return end if text[start:].strip() and end >= 0 else None


def stop_at_line_end(text: str) -> int | None:
    """Single-line completions end at the first newline that follows some text."""
    newline = text.find("\n")
    if newline == -1:
        return None
    if text[:newline].strip():
        return newline
    # The model started with a newline: the rest of the current line is empty; take one more line.
    second = text.find("\n", newline + 1)
    if second != -1 and text[newline + 1 : second].strip():
        return second
    return None


def _indent_width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def make_block_stop(cursor_line_prefix: str) -> StopRule:
    """Multi-line completions end where a complete line dedents out of the cursor's block.

    `cursor_line_prefix` is the text of the cursor's line before the cursor. A line less indented
    than the cursor's block closes the block: a Python dedent, or the `}` of C-like languages,
    which editors have usually inserted already after the cursor.
    """
    stripped = cursor_line_prefix.rstrip()
    if not stripped:  # blank line inside a body: siblings continue, a dedent ends the block
        block_indent = len(cursor_line_prefix)
    elif stripped.endswith((":", "{", "(", "[")):  # a block header: only its body belongs
        block_indent = _indent_width(cursor_line_prefix) + 1
    else:
        block_indent = _indent_width(cursor_line_prefix)

    def stop_at_block_end(text: str) -> int | None:
        full = cursor_line_prefix + text
        lines = full.split("\n")
        # Only complete lines (followed by a newline) are judged; the last one may still grow.
        offset = -len(cursor_line_prefix)
        blank_run = 0
        for index, line in enumerate(lines[:-1]):
            line_start = offset
            offset += len(line) + 1
            if index == 0:
                continue
            if not line.strip():
                blank_run += 1
                if blank_run >= 2:  # two blank lines: the model moved on to something else
                    return max(0, line_start - 1)
                continue
            blank_run = 0
            indent = _indent_width(line)
            if indent < block_indent:
                return max(0, line_start - 1)
        return None

    return stop_at_block_end
