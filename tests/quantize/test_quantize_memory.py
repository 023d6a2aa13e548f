"""Streaming: converting a checkpoint many times larger than its largest tensor keeps peak RSS
near one (stacked) tensor, not the model. Conversion runs in a child process so its peak RSS is
measured alone (getrusage RUSAGE_CHILDREN)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from quantize.tiny import build_tokenizer

HIDDEN, FF, EXPERTS, LAYERS = 512, 512, 8, 12
MB = 1024 * 1024


def _write_checkpoint(root: Path) -> tuple[int, int]:
    """Random qwen3moe checkpoint, one F16 shard per layer; return (total bytes, largest)."""
    from safetensors.numpy import save_file

    n_tok = build_tokenizer(root)
    vocab = (n_tok + 15) // 16 * 16
    rng = np.random.default_rng(0)
    cfg = {
        "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 64, "vocab_size": vocab,
        "intermediate_size": 2 * FF, "moe_intermediate_size": FF, "num_experts": EXPERTS,
        "num_experts_per_tok": 2, "norm_topk_prob": True, "rms_norm_eps": 1e-6,
        "max_position_embeddings": 256, "rope_theta": 1e6,
    }
    (root / "config.json").write_text(json.dumps(cfg))

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.05).astype(np.float16)

    weight_map: dict[str, str] = {}
    total = 0
    shards: list[dict[str, np.ndarray]] = [{
        "model.embed_tokens.weight": w(vocab, HIDDEN), "lm_head.weight": w(vocab, HIDDEN),
        "model.norm.weight": np.ones(HIDDEN, np.float16),
    }]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        t = {p + "input_layernorm.weight": np.ones(HIDDEN, np.float16),
             p + "post_attention_layernorm.weight": np.ones(HIDDEN, np.float16),
             p + "self_attn.q_proj.weight": w(HIDDEN, HIDDEN),
             p + "self_attn.k_proj.weight": w(256, HIDDEN),
             p + "self_attn.v_proj.weight": w(256, HIDDEN),
             p + "self_attn.o_proj.weight": w(HIDDEN, HIDDEN),
             p + "self_attn.q_norm.weight": np.ones(64, np.float16),
             p + "self_attn.k_norm.weight": np.ones(64, np.float16),
             p + "mlp.gate.weight": w(EXPERTS, HIDDEN)}
        for e in range(EXPERTS):
            t[p + f"mlp.experts.{e}.gate_proj.weight"] = w(FF, HIDDEN)
            t[p + f"mlp.experts.{e}.up_proj.weight"] = w(FF, HIDDEN)
            t[p + f"mlp.experts.{e}.down_proj.weight"] = w(HIDDEN, FF)
        shards.append(t)
    for n, t in enumerate(shards):
        fname = f"model-{n + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(t, str(root / fname))
        weight_map.update(dict.fromkeys(t, fname))
        total += sum(a.nbytes for a in t.values())
    (root / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    largest = EXPERTS * FF * HIDDEN * 2  # one stacked expert tensor, as F16 on disk
    return total, largest


def _peak_rss(args: list[str]) -> int:
    """Peak RSS (bytes) of a fresh child process running `args`."""
    code = (
        "import resource, subprocess, sys;"
        f"r = subprocess.run({args!r});"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
        "sys.exit(r.returncode)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) * 1024  # ru_maxrss is KiB on Linux


def test_peak_rss_bounded(tmp_path: Path) -> None:
    total, largest = _write_checkpoint(tmp_path / "ckpt")
    assert total > 15 * largest  # "several times larger than its largest tensor"
    baseline = _peak_rss([sys.executable, "-c", "import quantize.convert"])
    peak = _peak_rss([sys.executable, "-m", "quantize.cli", "convert", str(tmp_path / "ckpt"),
                      "-o", str(tmp_path / "out.gguf"), "--type", "F16", "--no-progress"])
    assert (tmp_path / "out.gguf").stat().st_size > total * 0.9
    extra = peak - baseline
    # One stacked layer as F32 (2x the F16 bytes) + its F16 copy + one expert being widened,
    # with slack for allocator behaviour; the whole model as F32 would be 2 * total.
    bound = 6 * largest
    print(f"checkpoint {total / MB:.0f} MiB, largest tensor {largest / MB:.0f} MiB, "
          f"baseline {baseline / MB:.0f} MiB, peak {peak / MB:.0f} MiB (+{extra / MB:.0f})")
    assert extra < bound, f"+{extra / MB:.0f} MiB over baseline, bound {bound / MB:.0f} MiB"
