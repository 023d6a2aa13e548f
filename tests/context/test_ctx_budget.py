"""Line-boundary prefix/suffix windows with few tokenizer calls and a stable start."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from smallcode_lsp.context.budget import (
    KEEP_SHARE,
    SLACK,
    STRIDE,
    fill_for,
    fit_prefix,
    fit_suffix,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
TEXT = (FIXTURES / "py_json/json/encoder.py").read_text()


class Counter:
    """A fake tokenizer with uneven density (like BPE: long identifiers cost more per char)."""

    def __init__(self) -> None:
        self.calls = 0
        self.chars = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        self.chars += len(text)
        return (len(text) + 3) // 4 + text.count("_") + text.count("\n")


@pytest.mark.parametrize("budget", [50, 200, 500, 1200, 2500])
def test_prefix_fits_whole_lines_on_a_stride_with_few_calls(budget: int) -> None:
    count = Counter()
    prefix = TEXT[: TEXT.index("def iterencode(self, o, _one_shot=False):")]
    window, start, n = fit_prefix(prefix, budget, count)
    assert n == count(window) <= budget and prefix[start:] == window
    assert start == 0 or prefix[start - 1] == "\n"
    if budget >= 1200:  # small budgets keep the exact fit rather than lose a stride
        assert start == 0 or prefix.count("\n", 0, start) % STRIDE == 0
    # Good use of the budget: one stride earlier would be past the SLACK margin.
    if start > 0:
        earlier = prefix.rfind("\n", 0, start - 1)
        for _ in range(STRIDE - 1):
            earlier = prefix.rfind("\n", 0, earlier)
        assert count(prefix[earlier + 1 :]) > budget * (1 - SLACK)
    assert count.calls <= 12


def test_prefix_hint_keeps_the_start_while_typing() -> None:
    count = Counter()
    base = TEXT[: TEXT.index("    def encode(self, o):")]
    _, start, _ = fit_prefix(base, 400, count)
    starts = set()
    calls = count.calls
    for i in range(1, 12):
        _, s, _ = fit_prefix(base + "    def enc"[:i], 400, count, hint=start)
        starts.add(s)
    assert starts == {start}
    assert count.calls - calls == 11  # one count per keystroke


@pytest.mark.parametrize("budget", [256, 512, 1024])
def test_new_windows_leave_headroom_and_keep_their_start_for_a_typed_line(budget: int) -> None:
    """A small prompt built full to the brim moved on the next line typed (a re-prefill of the
    whole prompt at a cold spot); one fitted with headroom keeps its start until it is full."""
    count = Counter()
    base = TEXT[: TEXT.index("    def encode(self, o):")]
    fill = fill_for(budget)
    _, start, n = fit_prefix(base, budget, count, fill=fill)
    assert n <= fill * budget and start > 0
    headroom = budget - n
    assert headroom >= min(0.2 * budget, 128) - 20  # up to a line short of the target
    typed = ""
    line = "        chunks = self.iterencode(o, _one_shot=True)\n"  # ~25 fake tokens a line
    while count(base[start:] + typed + line) <= budget:
        typed += line
        _, s, _ = fit_prefix(base + typed, budget, count, hint=start, fill=fill)
        assert s == start  # kept: no re-prefill while the budget holds it
    assert count(typed) >= headroom - 30
    # Past the budget a new window is fitted, again with headroom.
    more = base + typed + line
    _, moved, n2 = fit_prefix(more, budget, count, hint=start, fill=fill)
    assert moved > start and n2 <= fill * budget


def test_a_move_up_keeps_the_start_while_half_the_window_is_left() -> None:
    """The cursor moved up (or text was deleted): the window above it is shorter but cached;
    a new one would be a whole prefill. Only a window under half its target is fitted anew."""
    count = Counter()
    base = TEXT[: TEXT.index("    def encode(self, o):")]
    budget = 400
    fill = fill_for(budget)
    _, start, _ = fit_prefix(base, budget, count, fill=fill)
    lines = base[start:].splitlines(keepends=True)
    kept = base
    while count(kept[start:]) >= KEEP_SHARE * fill * budget + 40:  # a few lines up each time
        kept = kept[: kept.rstrip("\n").rfind("\n") + 1]
        _, s, _ = fit_prefix(kept, budget, count, hint=start, fill=fill)
        assert s == start
    assert len(kept[start:].splitlines()) < len(lines) * 0.7  # it went a long way up
    far_up = base[: start + len(lines[0])]  # one line left in the window
    _, s, _ = fit_prefix(far_up, budget, count, hint=start, fill=fill)
    assert s < start  # refitted: the window reaches up again


def test_minified_single_line_is_cut_by_characters() -> None:
    count = Counter()
    window, start, n = fit_prefix("x" * 10_000, 100, count)
    assert n <= 100 and start > 0 and window == "x" * len(window)


@pytest.mark.parametrize("budget", [10, 60, 150, 400])
def test_suffix_whole_lines(budget: int) -> None:
    count = Counter()
    suffix = TEXT[TEXT.index("    def encode(self, o):") + 5 :]
    head = fit_suffix(suffix, budget, count)
    assert suffix.startswith(head) and count(head) <= budget
    assert head.endswith("\n") or "\n" not in head
    nxt = suffix.find("\n", len(head))
    if head.endswith("\n") and nxt > 0:
        assert count(suffix[: nxt + 1]) > budget * 0.9  # within SLACK of the best


def test_suffix_edges() -> None:
    count = Counter()
    assert fit_suffix("abc", 0, count) == ""
    assert fit_suffix("abc", 10, count) == "abc"
    rng = random.Random(0)
    long_line = "".join(rng.choice("ab ") for _ in range(400))
    assert count(fit_suffix(long_line + "\nnext\n", 20, count)) <= 20
