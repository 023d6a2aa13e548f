"""Fast unit tests: registry, recipe patterns, casts, RoPE permutation, metrics."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from gguf import GGMLQuantizationType as Q

from quantize.arches.mixtral import unpermute_rope
from quantize.convert import _cast
from quantize.recipes import make_recipe
from quantize.registry import lookup, supported
from quantize.verify import compare


def test_registry_has_every_family() -> None:
    assert set(supported()) >= {
        "Qwen3MoeForCausalLM", "Qwen2MoeForCausalLM", "MixtralForCausalLM",
        "DeepseekV2ForCausalLM", "OlmoeForCausalLM", "GraniteMoeForCausalLM",
    }
    with pytest.raises(KeyError, match="unknown architecture"):
        lookup({"architectures": ["NopeForCausalLM"]})


def _first_match(overrides: list[tuple[str, Q]], name: str) -> Q | None:
    return next((t for p, t in overrides if re.search(p, name)), None)


def test_expert_aware_patterns_first_match_wins() -> None:
    r = make_recipe("Q4_K_M", "expert-aware", n_layer=48)
    assert _first_match(r.overrides, "blk.0.ffn_gate_exps.weight") == Q.Q5_K
    assert _first_match(r.overrides, "blk.47.ffn_down_exps.weight") == Q.Q5_K
    assert _first_match(r.overrides, "blk.10.ffn_gate_exps.weight") == Q.Q4_K
    assert _first_match(r.overrides, "blk.10.ffn_down_exps.weight") == Q.Q5_K
    assert _first_match(r.overrides, "blk.4.ffn_gate_shexp.weight") == Q.Q8_0
    assert _first_match(r.overrides, "blk.4.attn_kv_a_mqa.weight") == Q.Q8_0
    assert _first_match(r.overrides, "blk.0.ffn_down.weight") == Q.Q8_0  # deepseek2 dense
    assert _first_match(r.overrides, "blk.1.ffn_gate_inp.weight") is None  # stays F32
    assert make_recipe("Q4_K_M", "uniform", 48).overrides == []


def test_bf16_cast_matches_torch() -> None:
    x = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    assert np.array_equal(_cast(x, Q.BF16), want)


def test_unpermute_rope_interleaves_halves() -> None:
    # One head of dim 4: HF rows [r0 r1 | r2 r3] (halves) -> llama.cpp [r0 r2 r1 r3] (pairs).
    w = np.arange(4, dtype=np.float32)[:, None]
    assert unpermute_rope(w, 1)[:, 0].tolist() == [0, 2, 1, 3]


def test_compare_metrics() -> None:
    a = np.array([[0.0, 1.0, 2.0]], np.float32)
    r = compare([a], [a])
    assert (r.max_abs, r.top1, r.kl_mean) == (0.0, 1.0, 0.0)
    b = np.array([[0.0, 3.0, 2.0]], np.float32)
    r = compare([a], [b])
    assert r.top1 == 0.0 and r.max_abs == 2.0 and r.kl_mean > 0
