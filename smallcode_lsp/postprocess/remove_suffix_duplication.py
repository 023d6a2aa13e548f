"""Remove completion text that the suffix already contains.

Two cases: the completion's last lines equal the first lines after the cursor line (typically
a closing `}` or `)`), or the completion ends with the rest of the cursor line.
"""

from __future__ import annotations

from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log


def make(config: FilterConfig) -> Filter:
    def remove_suffix_duplication(text: str, ctx: FilterContext) -> str:
        rest = ctx.line_suffix.strip()
        if rest and len(rest) >= config.min_overlap_chars and text.rstrip().endswith(rest):
            log.debug("remove_suffix_duplication: ends with the cursor line's rest %r", rest)
            return text.rstrip()[: -len(rest)]
        lines = text.split("\n")
        if len(lines) < 2 or rest:
            return text
        following = ctx.next_lines(len(lines), keep_indent=True)
        # Longest tail of the completion that equals the start of the following lines,
        # indentation included (an inner `    }` is not the outer `  }` that follows).
        for k in range(min(len(lines) - 1, len(following)), 0, -1):
            tail = [ln.rstrip() for ln in lines[-k:]]
            if all(tail) and tail == following[:k]:
                log.debug("remove_suffix_duplication: %d trailing line(s) repeat the suffix", k)
                return "\n".join(lines[:-k]).rstrip()
        return text

    return guarded("remove_suffix_duplication", remove_suffix_duplication)
