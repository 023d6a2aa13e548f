"""Line-boundary prefix/suffix windows with few tokenizer calls and a stable start."""

from __future__ import annotations

from pathlib import Path

from smallcode_lsp.context.budget import STRIDE, fit_prefix, fit_suffix

FIXTURES = Path(__file__).parents[1] / "fixtures"
TEXT = (FIXTURES / "py_json/json/encoder.py").read_text()


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        return (len(text) + 3) // 4


def test_prefix_fits_on_a_stride_line_and_few_calls() -> None:
    count = Counter()
    prefix = TEXT[: TEXT.index("def iterencode(self, o, _one_shot=False):")]
    window, start = fit_prefix(prefix, 500, count)
    assert count(window) <= 500 and prefix[start:] == window
    assert start == 0 or prefix[start - 1] == "\n"
    assert prefix.count("\n", 0, start) % STRIDE == 0
    assert count.calls < 20  # binary search, not one call per line


def test_prefix_start_stays_while_typing() -> None:
    count = Counter()
    base = TEXT[: TEXT.index("    def encode(self, o):")]
    starts = {fit_prefix(base + "    def enc"[:i], 400, count)[1] for i in range(1, 12)}
    assert len(starts) == 1


def test_minified_single_line_is_cut_by_characters() -> None:
    count = Counter()
    window, start = fit_prefix("x" * 10_000, 100, count)
    assert count(window) <= 100 and start > 0


def test_suffix_whole_lines() -> None:
    count = Counter()
    suffix = TEXT[TEXT.index("    def encode(self, o):") :]
    head = fit_suffix(suffix, 120, count)
    assert suffix.startswith(head) and head.endswith("\n") and count(head) <= 120
    assert fit_suffix(suffix, 0, count) == ""
    assert fit_suffix("abc", 10, count) == "abc"
