"""Prefill throughput: llama.cpp's own (llama-bench) against our server's at cold big-file spots.

- llama-bench, built from the llama.cpp that the pinned llama-cpp-python vendors
  (scripts/build_llama_server.sh): `-m <gguf> -t 2 -p 512,2048,<ours> -n 0` at batch 512 (the
  floor) and batch 32, prompt tokens/s.
- Ours: a fresh server, an Invoked request at a deep spot (80% through, the line cut to its
  indentation) in each big real file (benchmarks/big_real_files.py; one spot per file, so
  every prompt is a cold prefill); the `smallcode/completionStats` notification gives
  promptTokensEvaluated and promptMs.
llama-bench also runs at our prompts' lengths; prints both and the ratio to llama-bench at batch
512 (the floor) for the same prompt lengths.

    .venv/bin/python benchmarks/prefill.py [--threads 2] [--reps 3] [--spots 4] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import big_real_files, llama_server  # noqa: E402
from smallcode_lsp.engine.cpu import llama_bench_args, read_cpu  # noqa: E402
from tests.e2e.lsp_session import (  # noqa: E402
    SERVER_COMMAND,
    _plain,
    initialize,
    inline_completion,
    open_document,
    status,
    wait_for_state,
)

PROMPTS = (512, 2048)
BATCHES = (512, 32)
REPS = 3
SPOTS = 4


def llama_bench(
    model: str, threads: int, prompts: list[int], reps: int = REPS
) -> list[dict[str, Any]]:
    """llama-bench prompt-processing rows: batch, prompt tokens, tokens/s (mean, stddev)."""
    rows = []
    for batch in BATCHES:
        args = [str(llama_server.tool("llama-bench")), "-m", model, "-t", str(threads)]
        args += ["-p", ",".join(map(str, prompts)), "-n", "0", "-b", str(batch)]
        args += ["-r", str(reps), "-o", "json", *llama_bench_args(read_cpu())]
        done = subprocess.run(args, capture_output=True, text=True, check=True)
        for entry in json.loads(done.stdout):
            rows.append(
                {
                    "engine": "llama-bench",
                    "batch": entry["n_batch"],
                    "ubatch": entry["n_ubatch"],
                    "prompt_tokens": entry["n_prompt"],
                    "tokens_per_s": round(entry["avg_ts"], 1),
                    "stddev": round(entry["stddev_ts"], 1),
                }
            )
    return rows


async def ours(threads: int, count: int) -> list[dict[str, Any]]:
    """Invoked requests at deep spots of the big files, a fresh server: the prompt's prefill."""
    files = big_real_files.find_files().items()
    chosen = [big_real_files.file_spots(path, language)[-1] for language, path in files][:count]
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    stats: list[dict[str, Any]] = []
    client.feature("smallcode/completionStats")(lambda params: stats.append(_plain(params)))
    # Only the prompt is measured: one short answer, no alternatives.
    await initialize(
        client, {"debug": True, "nThreads": threads, "maxTokens": 8, "invokedItems": 1}
    )
    await wait_for_state(client, "ready")
    rows = []
    for n, spot in enumerate(chosen):  # one spot per file: every prompt is new
        text = spot.path.read_text().split("\n")
        text[spot.line] = spot.text[: spot.indent]  # the line cut, as the typing starts
        open_document(client, spot.path.as_uri(), "\n".join(text), spot.language)
        stats.clear()
        began = time.perf_counter()
        await inline_completion(
            client,
            spot.path.as_uri(),
            spot.line,
            spot.indent,
            lsp.InlineCompletionTriggerKind.Invoked,
        )
        elapsed = (time.perf_counter() - began) * 1000
        for _ in range(250):
            if stats:
                break
            await asyncio.sleep(0.02)
        while not (await status(client))["engineIdle"]:  # background work stays out of the next
            await asyncio.sleep(0.05)
        if not stats:
            print(f"  no completionStats for {spot.path.name}:{spot.line + 1}", file=sys.stderr)
            continue
        evaluated, prompt_ms = stats[0]["promptTokensEvaluated"], stats[0]["promptMs"]
        rows.append(
            {
                "engine": f"ours #{n + 1} {spot.path.name}:{spot.line + 1}",
                "batch": "-",
                "prompt_tokens": evaluated,
                "prompt_tokens_total": stats[0]["promptTokens"],
                "prompt_ms": prompt_ms,
                "answer_ms": round(elapsed, 1),
                "tokens_per_s": round(evaluated / (prompt_ms / 1000), 1) if prompt_ms else 0.0,
            }
        )
    await client.shutdown_session()
    await client.stop()
    return rows


def measure(threads: int = 2, reps: int = REPS, spots: int = SPOTS) -> dict[str, Any]:
    """Ours, then llama-bench (never both at once) at 512, 2048 and our prompts' lengths; the
    ratio to llama-bench at batch 512 (the floor) for the same prompt lengths."""
    model = llama_server.default_model()
    mine = asyncio.run(ours(threads, spots))
    lengths = sorted({*PROMPTS, *(r["prompt_tokens"] for r in mine if r["prompt_tokens"] > 0)})
    bench = llama_bench(model, threads, lengths, reps)
    floor = {r["prompt_tokens"]: r["tokens_per_s"] for r in bench if r["batch"] == max(BATCHES)}
    for row in mine:
        row["floor_tokens_per_s"] = floor.get(row["prompt_tokens"], 0.0)
    measured = [r for r in mine if r["prompt_tokens"] > 0 and r["prompt_ms"] > 0]
    tokens = sum(r["prompt_tokens"] for r in measured)
    seconds = sum(r["prompt_ms"] for r in measured) / 1000
    floor_seconds = sum(r["prompt_tokens"] / r["floor_tokens_per_s"] for r in measured)
    ours_tps = round(tokens / seconds, 1) if seconds else 0.0
    floor_tps = round(tokens / floor_seconds, 1) if floor_seconds else 0.0
    return {
        "model": Path(model).name,
        "threads": threads,
        "llama_bench": bench,
        "ours": mine,
        "ours_tokens_per_s": ours_tps,
        "floor_tokens_per_s": floor_tps,
        "ratio_to_floor": round(ours_tps / floor_tps, 3) if floor_tps else 0.0,
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"prefill tokens/s, {result['model']}, {result['threads']} threads")
    print("| engine | batch | prompt tokens evaluated | tokens/s |")
    print("|---|---|---|---|")
    for row in result["llama_bench"] + result["ours"]:
        tps = row["tokens_per_s"]
        spread = f" ± {row['stddev']}" if "stddev" in row else f" ({row['prompt_ms']:.0f} ms)"
        print(f"| {row['engine']} | {row['batch']} | {row['prompt_tokens']} | {tps}{spread} |")
    lengths = ", ".join(str(r["prompt_tokens"]) for r in result["ours"])
    print(
        f"ours at cold spots ({lengths} tokens): {result['ours_tokens_per_s']} tokens/s; "
        f"llama-bench at batch 512, same lengths: {result['floor_tokens_per_s']} tokens/s; "
        f"ratio {result['ratio_to_floor']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=REPS, help="llama-bench repetitions")
    parser.add_argument("--spots", type=int, default=SPOTS, help="our cold requests (one a file)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = measure(args.threads, args.reps, args.spots)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
