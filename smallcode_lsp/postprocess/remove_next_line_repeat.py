"""Cut the completion where it starts re-typing the line that already follows the cursor
(the model ran into the suffix; llama.vim and Tabby filter these too). If that is its very
first line, nothing is left and the completion is dropped. A cut-short completion's last line
is a fragment: it counts as a repeat once it is a start of the next line."""

from __future__ import annotations

from smallcode_lsp.postprocess.base import Filter, FilterConfig, FilterContext, guarded, log

MIN_LINE_CHARS = 4  # "}" or "end" repeat legitimately; remove_suffix_duplication handles those


def make(config: FilterConfig) -> Filter:
    def remove_next_line_repeat(text: str, ctx: FilterContext) -> str:
        nxt = ctx.next_lines(1)
        if not nxt or len(nxt[0]) < MIN_LINE_CHARS or ctx.line_suffix.strip():
            return text
        lines = text.split("\n")
        # Lines that stand on their own: all of them when the cursor line is blank so far.
        first = 0 if not ctx.line_prefix.strip() else 1
        for i in range(first, len(lines)):
            line = lines[i].strip()
            fragment = ctx.truncated and i == len(lines) - 1
            if line == nxt[0] or (
                fragment and len(line) >= MIN_LINE_CHARS and nxt[0].startswith(line)
            ):
                log.debug("remove_next_line_repeat: line %d repeats the next line %r", i, nxt[0])
                return "\n".join(lines[:i]).rstrip() if i else ""
        return text

    return guarded("remove_next_line_repeat", remove_next_line_repeat)
