"""Bracket bookkeeping on plain text (cheap enough to run per generated line)."""

from __future__ import annotations

from collections.abc import Iterator

OPENERS, CLOSERS = "([{", ")]}"
PAIRS = dict(zip(CLOSERS, OPENERS, strict=True))


def indent_width(line: str) -> int:
    """Columns of leading whitespace (a tab counts 4: only compared within one file)."""
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(4))


def _outside_strings(text: str) -> Iterator[str]:
    """The characters of `text` outside simple string literals ('...', "...", `...`)."""
    quote = ""
    prev = ""
    for ch in text:
        if quote:
            if ch == quote and prev != "\\":
                quote = ""
        elif ch in "\"'`":
            quote = ch
        else:
            yield ch
        prev = ch


def bracket_depths(text: str) -> tuple[int, int]:
    """(final depth, lowest depth) of ()[]{} in `text`, skipping simple string literals."""
    depth = low = 0
    for ch in _outside_strings(text):
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            low = min(low, depth)
    return depth, low


def opener_line_indent(text: str, closer: str) -> int | None:
    """Indentation of the line holding the unmatched opener that `closer` would close at the
    end of `text` (a backward bracket scan over the last 20k chars; strings not skipped)."""
    depth = 0
    want = PAIRS[closer]
    stop = max(0, len(text) - 20_000)
    for i in range(len(text) - 1, stop - 1, -1):
        ch = text[i]
        if ch in CLOSERS:
            depth += 1
        elif ch in OPENERS:
            if depth == 0:
                if ch != want:
                    return None
                start = text.rfind("\n", 0, i) + 1
                return indent_width(text[start:i])
            depth -= 1
    return None


def first_unmatched_closer(text: str) -> int:
    """Index of the first closer in `text` without an opener in `text` (else the last char)."""
    depth = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and (i == 0 or text[i - 1] != "\\"):
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            if depth < 0:
                return i
        elif ch == "\n":
            quote = ""
    return len(text) - 1


def closers(text: str) -> str:
    """What would close the constructs `text` leaves open: an odd triple quote's mate, else
    the unmatched ()[]{} innermost first (simple string literals skipped)."""
    for triple in ('"""', "'''"):
        if text.count(triple) % 2:
            return triple
    stack: list[str] = []
    for ch in _outside_strings(text):
        if ch in OPENERS:
            stack.append(CLOSERS[OPENERS.index(ch)])
        elif ch in CLOSERS and stack and stack[-1] == ch:
            stack.pop()
    return "".join(reversed(stack))
