"""The server engine's MoE knobs on a converted MoE model: active experts and expert placement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions
from smallcode_lsp.engine.local.generate import generate
from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.engine.local.moe import expert_pattern
from smallcode_lsp.types import GenerationParams


def test_expert_pattern_matches_llama_cpp_names() -> None:
    import re

    every = re.compile(expert_pattern(-1))
    first_two = re.compile(expert_pattern(2))
    assert every.search("blk.7.ffn_gate_exps.weight")
    assert not every.search("blk.7.ffn_gate_inp.weight")  # the router stays where it is
    assert first_two.search("blk.1.ffn_down_exps.weight")
    assert not first_two.search("blk.2.ffn_down_exps.weight")


def test_engine_loads_moe_with_expert_knobs(gguf_file: Callable[..., Path]) -> None:
    path = str(gguf_file("qwen3moe", "F16"))
    prompt_text = "def add(a, b):\n    return"
    outputs = {}
    for name, options in {
        "plain": LoadOptions(n_ctx=256),
        "cpu experts": LoadOptions(n_ctx=256, cpu_moe=-1, n_gpu_layers=-1),
        "top-1": LoadOptions(n_ctx=256, experts_used=1),
    }.items():
        model = LoadedModel(path, options)
        try:
            assert model.info.is_moe and model.info.expert_count == 4
            tokens = model.tokenize(prompt_text)
            text, stats = generate(model, tokens, GenerationParams(max_tokens=6), [], CancelToken())
            assert stats.generated_tokens > 0 or stats.stop_reason.value == "eog"
            outputs[name] = (model.info.expert_used_count, text)
        finally:
            model.close()
    assert outputs["top-1"][0] == 1
    # Where the expert weights live does not change the arithmetic (CPU build: same buffers).
    assert outputs["cpu experts"][1] == outputs["plain"][1]
