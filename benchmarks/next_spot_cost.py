"""What a move from a warm spot to a nearby one costs, to decide which next spots are worth
warming ahead (issue: anticipate likely next spots).

At each cold-big spot (benchmarks/big_real_files.py: four big real files, C, C++, JS, Python)
the full prompt is built as the server builds it for a warm spot; then the cursor moves (to the
end of the line 1, 5, 20 or 60 lines below, 5 or 20 lines above, or another spot of the same file)
and the prompt there is built with the same context memory (so the window start stays where
the builder keeps it). Printed: the prompt tokens the KV cache holding the first prompt does
not cover (what the move costs to prefill: after the common prefix, cached chunks that
reappear after deleted text are shifted into place, as generate.py does), p50/p95 over the
spots, and that cost in ms at the prefill speed measured for this model on this machine. A
move whose cost the resting cursor's warm-up pays within a rest (warmer.py) needs no
anticipation; a move that costs a whole prompt does (for revisits: parked prompts).

    .venv/bin/python benchmarks/next_spot_cost.py      # ~1 min: tokenization only, no decoding
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.big_real_files import Spot, spots  # noqa: E402
from smallcode_lsp.completion.plan import make_plan  # noqa: E402
from smallcode_lsp.completion.sizing import full_limit, prompt_for  # noqa: E402
from smallcode_lsp.completion.sources import ContextSources  # noqa: E402
from smallcode_lsp.context.document import ParsedDocument  # noqa: E402
from smallcode_lsp.default_model import default_model_path  # noqa: E402
from smallcode_lsp.engine.cancel import CancelToken  # noqa: E402
from smallcode_lsp.engine.info import LoadOptions  # noqa: E402
from smallcode_lsp.engine.local.generate import LocalModel, prefill  # noqa: E402
from smallcode_lsp.engine.local.kv_cache import shift_plan  # noqa: E402
from smallcode_lsp.engine.tokens import common_prefix_length  # noqa: E402
from smallcode_lsp.options import Settings  # noqa: E402
from smallcode_lsp.types import (  # noqa: E402
    CompletionRequest,
    DocumentSnapshot,
    GenerationParams,
    Trigger,
)


def uncached(cached: list[int], tokens: list[int], shift_chunk: int) -> int:
    """Prompt tokens a cache holding `cached` must evaluate for `tokens`: after the common
    prefix, chunks shifted over deleted text (kv_cache.shift_plan) are free."""
    n_past = common_prefix_length(cached, tokens)
    moves = shift_plan(cached, tokens, n_past, shift_chunk) if shift_chunk else []
    return len(tokens) - n_past - sum(length for _, _, length in moves)


MOVES = {"1 line down": 1, "5 lines down": 5, "20 lines down": 20, "60 lines down": 60,
         "5 lines up": -5, "20 lines up": -20}  # fmt: skip


def _request(spot: Spot, text: str, line: int) -> CompletionRequest:
    lines = text.split("\n")
    line = max(0, min(len(lines) - 1, line))
    offset = sum(len(row) + 1 for row in lines[:line]) + len(lines[line])
    doc = DocumentSnapshot(f"file://{spot.path}", text, spot.language, 0, str(spot.path))
    return CompletionRequest(doc, offset, Trigger.AUTOMATIC)


def main() -> None:
    model = LocalModel(default_model_path(), LoadOptions(n_ctx=4096))
    plan = make_plan(Settings())
    # The prefill speed of this machine, measured: one full prompt evaluated.
    texts = {spot.path: spot.path.read_text() for spot in spots()}
    costs: dict[str, list[int]] = {name: [] for name in [*MOVES, "another spot, same file"]}
    limit = full_limit(model, plan)
    all_spots = spots()
    speed_sample = None
    for spot in all_spots:
        text = texts[spot.path]
        parsed = ParsedDocument(text, spot.language, str(spot.path))
        other = next(s for s in all_spots if s.path == spot.path and s.line != spot.line)
        targets = {name: spot.line + delta for name, delta in MOVES.items()}
        targets["another spot, same file"] = other.line
        for name, line in targets.items():
            # Each move from the warm spot as the server left it (fresh context memory, then
            # the warm spot's prompt: its window start is what the builder keeps).
            sources = ContextSources()
            here = prompt_for(model, _request(spot, text, spot.line), plan, sources, parsed, limit)
            if speed_sample is None:
                began = time.perf_counter()
                prefill(model, here.tokens, GenerationParams(), CancelToken())
                speed_sample = len(here.tokens) / (time.perf_counter() - began)
            there = prompt_for(model, _request(spot, text, line), plan, sources, parsed, limit)
            costs[name].append(uncached(here.tokens, there.tokens, plan.params.shift_chunk))
    model.close()
    assert speed_sample is not None
    print(
        f"{len(all_spots)} spots in {len(texts)} big real files; full prompts of {limit} tokens; "
        f"prefill measured at {speed_sample:.0f} tokens/s"
    )
    print("| move from a warm spot | uncached tokens p50 | p95 | prefill ms p50 | p95 |")
    print("|---|---|---|---|---|")
    for name, values in costs.items():
        values.sort()
        p50 = statistics.median(values)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(
            f"| {name} | {p50:.0f} | {p95} | {1000 * p50 / speed_sample:.0f} | "
            f"{1000 * p95 / speed_sample:.0f} |"
        )


if __name__ == "__main__":
    main()
