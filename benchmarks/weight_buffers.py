"""llama.cpp's repacked CPU weight buffers on and off: load, prefill and decode on this machine.

`cpuRepack` auto keeps the repacked layouts (CPU_REPACK: weights reordered for the CPU's SIMD
kernels) except on AMX CPUs, where llama.cpp's AMX path segfaults (issue 20824). This measures
what the choice is worth here: the default model (Gemma-3-270M Q4_K_M), a ~1,000-token prompt
of real code (the start of transformers' `modeling_utils.py`, batch 512) and 64 greedy tokens,
repack on and off interleaved, best of the rounds. On an AMX CPU the "on" rows are skipped
unless --force (they would crash this process).

    .venv/bin/python benchmarks/weight_buffers.py [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smallcode_lsp.default_model import default_model_path  # noqa: E402
from smallcode_lsp.engine.cancel import CancelToken  # noqa: E402
from smallcode_lsp.engine.cpu import read_cpu  # noqa: E402
from smallcode_lsp.engine.info import LoadOptions  # noqa: E402
from smallcode_lsp.engine.local.generate import generate  # noqa: E402
from smallcode_lsp.engine.local.loader import build_features  # noqa: E402
from smallcode_lsp.engine.local.model import LoadedModel  # noqa: E402
from smallcode_lsp.types import GenerationParams  # noqa: E402

PROMPT_TOKENS, DECODE_TOKENS = 1000, 64


def real_code() -> str:
    spec = importlib.util.find_spec("transformers")
    assert spec is not None and spec.submodule_search_locations, "pip install transformers"
    return (Path(spec.submodule_search_locations[0]) / "modeling_utils.py").read_text()


def measure(path: str, repack: bool, text: str, threads: int) -> dict[str, object]:
    began = time.perf_counter()
    model = LoadedModel(path, LoadOptions(n_ctx=2048, n_threads=threads), extra_bufts=repack)
    load_ms = (time.perf_counter() - began) * 1000
    try:
        prompt = model.tokenize(text)[:PROMPT_TOKENS]
        model.kv.clear()
        params = GenerationParams(max_tokens=DECODE_TOKENS, speculative=False)
        # A prompt that never stops early: the end-of-text stop is the only rule, none fire.
        _, stats = generate(model, prompt, params, [], CancelToken())
        return {
            "repack": repack,
            "buffers": " + ".join(name for name, _ in model.weight_buffers),
            "load_ms": round(load_ms, 1),
            "prefill_tok_s": round(stats.prompt_tokens_evaluated / stats.prompt_ms * 1000, 1),
            "decode_ms_per_token": round(stats.generate_ms / max(1, stats.generated_tokens), 2),
            "generated": stats.generated_tokens,
        }
    finally:
        model.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--force", action="store_true", help="measure repack on AMX CPUs too")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cpu = read_cpu()
    print(f"machine: {cpu.summary()}")
    print(f"llama.cpp build: {' '.join(build_features())}")
    modes = [True, False] if args.force or not cpu.has_amx else [False]
    path, text = default_model_path(), real_code()
    runs: dict[bool, list[dict[str, object]]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:  # interleaved: the machine's drift hits both alike
            runs[mode].append(measure(path, mode, text, args.threads))
    best = {
        mode: {
            **rows[0],
            "load_ms": min(float(r["load_ms"]) for r in rows),  # type: ignore[arg-type]
            "prefill_tok_s": max(float(r["prefill_tok_s"]) for r in rows),  # type: ignore[arg-type]
            "decode_ms_per_token": min(float(r["decode_ms_per_token"]) for r in rows),  # type: ignore[arg-type]
        }
        for mode, rows in runs.items()
    }
    print(
        f"\n{PROMPT_TOKENS}-token prompt (batch 512), {DECODE_TOKENS} tokens,"
        f" best of {args.rounds}:"
    )
    print("| repack | weight buffers | load ms | prefill tok/s | decode ms/token |")
    print("|---|---|---|---|---|")
    for mode, row in best.items():
        print(
            f"| {'on' if mode else 'off'} | {row['buffers']} | {row['load_ms']} |"
            f" {row['prefill_tok_s']} | {row['decode_ms_per_token']} |"
        )
    if len(best) == 2:
        on, off = best[True], best[False]
        print(
            f"| ratio on/off | - | {float(on['load_ms']) / float(off['load_ms']):.2f} |"  # type: ignore[arg-type]
            f" {float(on['prefill_tok_s']) / float(off['prefill_tok_s']):.2f} |"  # type: ignore[arg-type]
            f" {float(on['decode_ms_per_token']) / float(off['decode_ms_per_token']):.2f} |"  # type: ignore[arg-type]
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"cpu": cpu.as_dict(), "runs": {str(k): v for k, v in runs.items()}}, indent=2
            )
        )


if __name__ == "__main__":
    main()
