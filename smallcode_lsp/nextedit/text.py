"""Plain-text helpers: the single changed span between two texts, span arithmetic."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """`old` at `start` of the earlier text became `new`."""

    start: int
    old: str
    new: str

    @property
    def old_end(self) -> int:
        return self.start + len(self.old)

    @property
    def new_end(self) -> int:
        return self.start + len(self.new)


def common_prefix(a: str, b: str) -> int:
    """Length of the common prefix (binary search over slice compares: C speed on big texts)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most `limit`."""
    lo, hi = 0, min(len(a), len(b), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid : len(a) - lo] == b[len(b) - mid : len(b) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def diff(before: str, after: str) -> Change | None:
    """The one span that differs (common prefix and suffix trimmed); None when equal."""
    if before == after:
        return None
    prefix = common_prefix(before, after)
    suffix = common_suffix(before, after, min(len(before), len(after)) - prefix)
    return Change(
        prefix, before[prefix : len(before) - suffix], after[prefix : len(after) - suffix]
    )


def shift_span(span: tuple[int, int], change: Change) -> tuple[int, int] | None:
    """`span` of the earlier text in the later one; None when the change overwrote part of it."""
    start, end = span
    if change.old_end <= start:
        delta = len(change.new) - len(change.old)
        return (start + delta, end + delta)
    if change.start >= end:
        return span
    return None


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when the spans share a character, or one is empty and lies within (or at an end
    of) the other."""
    if a[0] == a[1] or b[0] == b[1]:
        return b[0] <= a[1] and a[0] <= b[1]
    return a[0] < b[1] and b[0] < a[1]
