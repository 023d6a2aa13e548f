"""Cutting prefix/suffix at line boundaries to fit a token budget (exact, with the model's
tokenizer, but with few tokenizer calls: binary search over a bounded window of lines)."""

from __future__ import annotations

from collections.abc import Callable

STRIDE = 8  # prefix window starts snap to multiples of this many lines: KV-cache prefix reuse
MAX_CHARS_PER_TOKEN = 12  # no tokenizer packs more; bounds the text handed to the tokenizer


def _cut_chars_left(text: str, budget: int, count: Callable[[str], int]) -> str:
    """Longest tail of a single line that fits (a minified line longer than the budget)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi) // 2
        if count(text[mid:]) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return text[lo:]


def fit_prefix(prefix: str, budget: int, count: Callable[[str], int]) -> tuple[str, int]:
    """(kept tail of `prefix`, str offset where it starts) within `budget` tokens.

    Whole lines are dropped from the top; the start line snaps to a multiple of STRIDE so the
    window (and the model's cached prefix) stays put while the user types.
    """
    if budget <= 0:
        return "", len(prefix)
    if len(prefix) <= budget * MAX_CHARS_PER_TOKEN and count(prefix) <= budget:
        return prefix, 0
    # Never consider windows longer than MAX_CHARS_PER_TOKEN * budget characters, so the
    # line scan and the tokenizer calls cost O(budget), not O(file).
    limit = max(0, len(prefix) - budget * MAX_CHARS_PER_TOKEN)
    starts = _line_starts(prefix, limit)
    lo, hi = 0, len(starts) - 1
    # Smallest line index k in [lo, hi] whose tail fits; the last line alone may not fit.
    if count(prefix[starts[hi] :]) > budget:
        tail = _cut_chars_left(prefix[starts[hi] :], budget, count)
        return tail, len(prefix) - len(tail)
    while lo < hi:
        mid = (lo + hi) // 2
        if count(prefix[starts[mid] :]) <= budget:
            hi = mid
        else:
            lo = mid + 1
    # Snap to an absolute line number that is a multiple of STRIDE (start of window moves
    # in steps of STRIDE lines, not on every keystroke).
    row0 = prefix.count("\n", 0, starts[0]) if starts[0] else 0
    k = lo
    while k < len(starts) - 1 and (row0 + k) % STRIDE:
        k += 1
    return prefix[starts[k] :], starts[k]


def _line_starts(text: str, begin: int) -> list[int]:
    """Offsets of line starts at or after `begin` (`begin` itself when it starts a line)."""
    i = begin if begin == 0 or text[begin - 1] == "\n" else text.find("\n", begin) + 1
    if i == 0 and begin > 0:  # no newline after begin: only the last partial line
        return [text.rfind("\n") + 1]
    starts = [i]
    while True:
        i = text.find("\n", i) + 1
        if i == 0 or i > len(text):
            return starts
        starts.append(i)


def fit_suffix(suffix: str, budget: int, count: Callable[[str], int]) -> str:
    """Head of `suffix` within `budget` tokens, whole lines (the current line's rest always)."""
    if budget <= 0:
        return ""
    if len(suffix) <= budget and count(suffix) <= budget:
        return suffix
    ends = [i for i, ch in enumerate(suffix) if ch == "\n"] + [len(suffix)]
    first = ends[0]
    if count(suffix[:first]) > budget:
        head = suffix[:first]
        lo, hi = 0, len(head)
        while lo < hi:  # longest head of the current line that fits
            mid = (lo + hi + 1) // 2
            if count(head[:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return head[:lo]
    lo, hi = 0, len(ends) - 1
    while hi > 0 and ends[hi] > budget * MAX_CHARS_PER_TOKEN:
        hi -= 1
    while lo < hi:  # largest k whose head (through line k, with its newline) fits
        mid = (lo + hi + 1) // 2
        if count(suffix[: ends[mid] + 1]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return suffix[: ends[lo] + 1]
