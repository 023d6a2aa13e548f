"""Cutting prefix/suffix at line boundaries to fit a token budget.

Counts are exact (the model's tokenizer) but tokenizers are slow on long text (~5 us/char for
a 262k-vocab SentencePiece), so the window is found with a few counts of window-sized text:
a guess from the tokens/char ratio, corrected once or twice (secant steps), and, while typing,
the previous window start is simply re-checked (one count, and a stable KV-cache prefix).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

STRIDE = 8  # prefix window starts snap to line numbers that are multiples of this
MAX_CHARS_PER_TOKEN = 12  # no tokenizer packs more; bounds the text handed to the tokenizer
SLACK = 0.1  # a window using at least 90% of its budget is good enough: keep it
# A new window is fitted to this share of its budget and then kept while it fits: typing a line
# (~30-50 tokens) then leaves the start, and the KV cache behind it, where they are. A window
# built full to the brim moved on the next line typed: a 256-token prompt re-evaluated.
FILL = 0.8
HEADROOM_TOKENS = 128  # ...but no more headroom than a few lines need (large budgets)
# A kept start stays while its window holds this share of the target: the cursor moved up
# (or text was deleted), and the window above it is shorter, but cached. Refitting at 90%
# cost a whole prefill for a move 5 lines up in 1 of 12 spots of big real files (1,609
# tokens, 2.7 s here; benchmarks/next_spot_cost.py), for a few more lines of context.
KEEP_SHARE = 0.5


def fill_for(budget: int) -> float:
    """The share of `budget` a new prefix window is fitted to."""
    return max(FILL, 1 - HEADROOM_TOKENS / max(1, budget))
MAX_STEPS = 6
DEFAULT_RATIO = 0.3  # tokens per char for code, before the first measurement


def _line_starts(text: str, begin: int) -> list[int]:
    """Offsets of line starts at or after `begin` (the last line's start when none is)."""
    i = begin if begin == 0 or text[begin - 1] == "\n" else text.find("\n", begin) + 1
    if i == 0 and begin > 0:
        return [text.rfind("\n") + 1]
    starts = [i]
    while (i := text.find("\n", i) + 1) > 0:
        starts.append(i)
    return starts


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


def _index_for_chars(starts: list[int], end: int, chars: float) -> int:
    """Index of the first line start leaving at most `chars` characters before `end`."""
    target = end - chars
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def fit_prefix(
    prefix: str,
    budget: int,
    count: Callable[[str], int],
    hint: int | None = None,
    ratio: float = DEFAULT_RATIO,
    fill: float = 1.0,
) -> tuple[str, int, int]:
    """(window, start offset, tokens): the longest whole-line tail of `prefix` within `budget`.

    `hint` is the previous window start: kept while it fits and fills KEEP_SHARE of the
    target. A new window is fitted to `fill` x `budget` (headroom for typing, kept until the
    budget is full).
    """
    if budget <= 0:
        return "", len(prefix), 0
    if len(prefix) * ratio * 0.5 <= budget or len(prefix) <= budget:
        n = count(prefix)  # probably fits whole: one count settles it
        if n <= budget:
            return prefix, 0, n
        ratio = n / max(1, len(prefix))
    target = max(1, int(budget * fill))
    if hint is not None and 0 < hint <= len(prefix) and prefix[hint - 1] == "\n":
        n = count(prefix[hint:])
        if KEEP_SHARE * target <= n <= budget:
            return prefix[hint:], hint, n
        ratio = n / max(1, len(prefix) - hint) if n else ratio
    budget = target
    limit = max(0, len(prefix) - budget * MAX_CHARS_PER_TOKEN)
    starts = _line_starts(prefix, limit)
    last = len(starts) - 1
    best: tuple[int, int] | None = None  # (index, tokens) of the longest fitting window seen
    tried: set[int] = set()
    k = _index_for_chars(starts, len(prefix), budget * (1 - SLACK / 2) / ratio)
    for _ in range(MAX_STEPS):
        if k in tried:
            break
        tried.add(k)
        n = count(prefix[starts[k] :])
        chars = max(1, len(prefix) - starts[k])
        ratio = max(n / chars, 1e-3)
        if n <= budget:
            if best is None or k < best[0]:
                best = (k, n)
            if n >= (1 - SLACK) * budget or k == 0:
                break
            k = min(k - 1, _index_for_chars(starts, len(prefix), budget * (1 - SLACK / 2) / ratio))
            k = max(0, k)
        else:
            k = max(k + 1, _index_for_chars(starts, len(prefix), budget * (1 - SLACK / 2) / ratio))
            if k > last:
                break
    if best is None:
        tail = prefix[starts[last] :]
        if count(tail) <= budget:
            best = (last, count(tail))
        else:
            cut = _cut_chars_left(tail, budget, count)
            return cut, len(prefix) - len(cut), count(cut)
    k, n = best
    # Snap forward to an absolute line number that is a multiple of STRIDE: the window start
    # (and so the model's cached prefix) then moves in steps, not on every new line.
    row0 = prefix.count("\n", 0, starts[0]) if starts[0] else 0
    snapped = k
    while snapped < last and (row0 + snapped) % STRIDE:
        snapped += 1
    if snapped != k:
        n_snapped = count(prefix[starts[snapped] :])
        # Small budgets cannot afford to lose up to STRIDE-1 lines: keep the exact fit then.
        if n_snapped >= (1 - 2 * SLACK) * budget:
            return prefix[starts[snapped] :], starts[snapped], n_snapped
    return prefix[starts[k] :], starts[k], n


def fit_suffix(
    suffix: str, budget: int, count: Callable[[str], int], ratio: float = DEFAULT_RATIO
) -> str:
    """Head of `suffix` within `budget` tokens, whole lines (the current line's rest always)."""
    if budget <= 0:
        return ""
    if len(suffix) * ratio * 0.5 <= budget or len(suffix) <= budget:
        n = count(suffix)
        if n <= budget:
            return suffix
        ratio = n / max(1, len(suffix))
    first = suffix.find("\n")
    first = len(suffix) if first < 0 else first
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
    cap = min(len(suffix), budget * MAX_CHARS_PER_TOKEN)
    ends = [first]  # newline offsets; window k = suffix[: ends[k] + 1]
    while (i := suffix.find("\n", ends[-1] + 1)) >= 0 and i < cap:
        ends.append(i)
    last = len(ends) - 1

    def k_for(ratio: float) -> int:
        return max(0, bisect.bisect_right(ends, budget * (1 - SLACK / 2) / ratio) - 1)

    best = 0  # the cursor line's rest fits (checked above)
    k = k_for(ratio)
    tried: set[int] = set()
    for _ in range(MAX_STEPS):
        if k in tried or (best and k <= best):
            break
        tried.add(k)
        n = count(suffix[: ends[k] + 1])
        ratio = max(n / (ends[k] + 1), 1e-3)
        if n <= budget:
            best = max(best, k)
            if n >= (1 - SLACK) * budget or k == last:
                break
            k = max(k + 1, k_for(ratio))
        else:
            k = min(k - 1, k_for(ratio))
            if k <= best:
                break
    return suffix[: ends[best] + 1]
