"""Choose the part of the file around the cursor that fits the prompt budget.

The prefix window starts on a line number rounded to a multiple of ANCHOR_LINES, so while the
user types in one region the start does not move and the KV cache keeps the whole prefix.
"""

from __future__ import annotations

from collections.abc import Callable

ANCHOR_LINES = 32
MAX_SUFFIX_LINES = 64


def prefix_window(prefix: str, budget_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The tail of `prefix` that fits `budget_tokens`, starting on an anchored line."""
    if count_tokens(prefix) <= budget_tokens:
        return prefix
    lines = prefix.split("\n")
    cursor_line = len(lines) - 1
    # First guess from a cheap estimate (3 chars per token), then check with the tokenizer.
    used, start = 0, cursor_line
    while start > 0 and used + len(lines[start - 1]) // 3 + 1 <= budget_tokens:
        start -= 1
        used += len(lines[start]) // 3 + 1
    start = -(-start // ANCHOR_LINES) * ANCHOR_LINES  # round up to the anchor grid
    while start < cursor_line:
        window = "\n".join(lines[start:])
        if count_tokens(window) <= budget_tokens:
            return window
        start += ANCHOR_LINES if start + ANCHOR_LINES <= cursor_line else 1
    # Even the cursor line alone is over budget (minified code): keep its tail.
    tail = lines[cursor_line]
    return tail[-budget_tokens * 2 :]


def suffix_window(suffix: str, budget_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The head of `suffix` that fits `budget_tokens`, cut at a line end."""
    lines = suffix.split("\n")[:MAX_SUFFIX_LINES]
    window = "\n".join(lines)
    while lines and count_tokens(window) > budget_tokens:
        lines = lines[: max(1, len(lines) * 3 // 4)] if len(lines) > 1 else []
        window = "\n".join(lines)
    if not lines:
        return suffix.split("\n", 1)[0][: budget_tokens * 2]
    return window
