"""MoE knob `expertsUsed`: decode and prefill speed of a Qwen3-MoE-shaped model at 1/2/4/8 active
experts per token, on this machine's CPU build.

The model is random (numpy-written, converted by `quantize/` to Q8_0): 12 layers, 64 experts
of width 256, hidden 512 — Qwen3-30B-A3B's layout (128 experts, top-8) scaled down to fit a
2-core machine. Random weights say nothing about quality; the speed effect of the number of
active experts is what is measured. (`cpuMoe`, expert tensors kept in CPU memory on GPU
builds, needs a GPU build and is not measured here.)

    .venv/bin/python benchmarks/moe_knobs.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quantize.convert import convert  # noqa: E402
from quantize.tiny import write_random_qwen3moe  # noqa: E402
from smallcode_lsp.engine.cancel import CancelToken  # noqa: E402
from smallcode_lsp.engine.info import LoadOptions  # noqa: E402
from smallcode_lsp.engine.local.generate import generate  # noqa: E402
from smallcode_lsp.engine.local.model import LoadedModel  # noqa: E402
from smallcode_lsp.types import GenerationParams  # noqa: E402

HIDDEN, FF, EXPERTS, LAYERS = 512, 256, 64, 12
PROMPT_TOKENS, DECODE_TOKENS, REPEATS = 256, 48, 3


def measure(path: Path, experts_used: int) -> dict[str, float]:
    model = LoadedModel(str(path), LoadOptions(n_ctx=1024, experts_used=experts_used))
    try:
        vocab = model.info.n_vocab
        prompt = [(i * 7919) % (vocab - 16) for i in range(PROMPT_TOKENS)]
        prefill, decode = [], []
        for _ in range(REPEATS):
            model.kv.clear()
            params = GenerationParams(max_tokens=DECODE_TOKENS, speculative=False)
            _, stats = generate(model, prompt, params, [], CancelToken())
            prefill.append(stats.prompt_tokens_evaluated / stats.prompt_ms * 1000)
            if stats.generated_tokens > 1:
                decode.append(stats.generate_ms / stats.generated_tokens)
        return {
            "experts_used": model.info.expert_used_count,
            "prefill_tok_s": round(max(prefill), 1),
            "decode_ms_per_token": round(min(decode), 2) if decode else float("nan"),
        }
    finally:
        model.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        began = time.perf_counter()
        write_random_qwen3moe(work / "ckpt", HIDDEN, FF, EXPERTS, LAYERS)
        gguf = work / "moe-q8_0.gguf"
        convert(work / "ckpt", gguf, "Q8_0", "uniform", progress=False)
        built = time.perf_counter() - began
        size_mib = gguf.stat().st_size / 2**20
        rows = [measure(gguf, k) for k in (8, 4, 2, 1)]
    print(
        f"qwen3moe, {LAYERS} layers, {EXPERTS} experts x {FF}, hidden {HIDDEN}, Q8_0 "
        f"{size_mib:.0f} MiB (built in {built:.0f} s); prompt {PROMPT_TOKENS} tokens, "
        f"{DECODE_TOKENS} decoded, best of {REPEATS}"
    )
    print("| expertsUsed | prefill tok/s | decode ms/token | decode vs top-8 |")
    print("|---|---|---|---|")
    base = rows[0]["decode_ms_per_token"]
    for row in rows:
        speedup = base / row["decode_ms_per_token"]
        print(
            f"| {row['experts_used']} | {row['prefill_tok_s']} | {row['decode_ms_per_token']} "
            f"| {speedup:.2f}x |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
