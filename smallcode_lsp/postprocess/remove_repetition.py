"""Remove repetition loops a small model falls into when it runs to max_tokens: the same line
or block of lines over and over, or a line ending in a repeated pattern."""

from __future__ import annotations

import re

from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log

# As Tabby's removeLineEndsWithRepetition: a short unit 6+ times or a longer one 4+ times.
_LINE_LOOPS = (re.compile(r"(.{3,}?)\1{5,}$"), re.compile(r"(.{10,}?)\1{3,}$"))
MAX_PERIOD = 12  # lines in a repeated block


def _cut_block_loop(lines: list[str], max_same: int) -> list[str]:
    """Keep one copy of a block of lines that repeats at the end of the text."""
    n = len(lines)
    for period in range(1, min(MAX_PERIOD, n // 2) + 1):
        need = max_same + 1 if period == 1 else 2  # `x += 1` twice is fine, three times is not
        # Compare with indentation: `    }` then `  }` is a block ending, not a loop.
        block = [ln.rstrip() for ln in lines[n - period :]]
        if not any(block):
            continue
        reps = 1
        while (
            n - (reps + 1) * period >= 0
            and [ln.rstrip() for ln in lines[n - (reps + 1) * period : n - reps * period]] == block
        ):
            reps += 1
        if reps >= need:
            return lines[: n - (reps - 1) * period]
    return lines


def make(config: FilterConfig) -> Filter:
    def remove_repetition(text: str, ctx: FilterContext) -> str:
        lines = text.rstrip("\n").split("\n")
        kept = _cut_block_loop(lines, config.max_same_lines)
        if len(kept) < len(lines):
            log.debug("remove_repetition: %d repeated line(s) removed", len(lines) - len(kept))
        last = kept[-1]
        for pattern in _LINE_LOOPS:
            m = pattern.search(last)
            # `# ------` and `=====` rules are real code; loops repeat words.
            if m and any(ch.isalnum() for ch in m.group(1)):
                log.debug("remove_repetition: line loop %r", m.group(1))
                kept[-1] = last[: m.start()] + m.group(1)
                break
        out = "\n".join(kept)
        return out if out != text.rstrip("\n") else text

    return guarded("remove_repetition", remove_repetition)
