"""Qwen2-MoE (Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B): qkv bias, one sigmoid-gated shared expert."""

from __future__ import annotations

from typing import ClassVar

from gguf import GGUFWriter

from quantize.arches.qwen3_moe import Qwen3Moe
from quantize.gguf_names import COMMON, QKV_BIAS, QWEN2_SHARED, QWEN_STYLE_MOE
from quantize.registry import register


@register("Qwen2MoeForCausalLM")
class Qwen2Moe(Qwen3Moe):
    """llama.cpp arch `qwen2moe`."""

    gguf_arch = "qwen2moe"
    tables = (COMMON, QKV_BIAS, QWEN_STYLE_MOE, QWEN2_SHARED)
    norm_topk: ClassVar[bool] = False  # llama.cpp qwen2moe graph: norm_w = false
    output_required = True  # no fallback to token_embd in llama.cpp

    def extra_metadata(self, w: GGUFWriter) -> None:
        super().extra_metadata(w)
        w.add_expert_shared_feed_forward_length(int(self.need("shared_expert_intermediate_size")))
