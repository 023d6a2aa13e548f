"""DeepSeek-V2 / DeepSeek-Coder-V2-Lite: MLA attention written as MQA, shared experts, leading
dense blocks. llama.cpp arch `deepseek2`."""

from __future__ import annotations

import numpy as np
from gguf import GGUFWriter
from gguf.constants import MODEL_TENSOR as T

from quantize.arches.base import Arch, ConvertError, Planned
from quantize.checkpoint import TensorRef
from quantize.gguf_names import (
    COMMON,
    DEEPSEEK2_MLA,
    DEEPSEEK_SHARED,
    DENSE_FFN,
    GATING_SIGMOID,
    GATING_SOFTMAX,
    KEY_EXPERT_GATING_FUNC,
    QWEN_STYLE_MOE,
    gguf_name,
)
from quantize.registry import register


@register("DeepseekV2ForCausalLM")
class Deepseek2(Arch):
    """MLA: kv_b_proj is split into k_b (transposed) and v_b for llama.cpp's absorbed form."""

    gguf_arch = "deepseek2"
    tables = (COMMON, DEEPSEEK2_MLA, DENSE_FFN, QWEN_STYLE_MOE, DEEPSEEK_SHARED)

    def n_head_kv(self) -> int:
        return 1  # MLA's compressed KV is one shared "head" (MQA) in llama.cpp

    def head_dim(self) -> int | None:
        return None  # key/value lengths are MLA-specific, written below

    def extra_metadata(self, w: GGUFWriter) -> None:
        kv_lora = int(self.need("kv_lora_rank"))
        rope = int(self.need("qk_rope_head_dim"))
        w.add_vocab_size(int(self.need("vocab_size")))
        w.add_leading_dense_block_count(int(self.get("first_k_dense_replace", default=0)))
        if (q_lora := self.get("q_lora_rank")) is not None:
            w.add_q_lora_rank(int(q_lora))
        elif self.n_layer not in (26, 27):
            # llama.cpp only accepts q_lora_rank-less models with the Lite layer counts.
            raise ConvertError("deepseek2 without q_lora_rank is only loadable as V2-Lite")
        w.add_kv_lora_rank(kv_lora)
        w.add_key_length(kv_lora + rope)
        w.add_value_length(kv_lora)
        w.add_key_length_mla(int(self.need("qk_nope_head_dim")) + rope)
        w.add_value_length_mla(int(self.need("v_head_dim")))
        w.add_expert_feed_forward_length(int(self.need("moe_intermediate_size")))
        w.add_expert_shared_count(int(self.get("n_shared_experts", default=0)))
        w.add_expert_weights_scale(float(self.get("routed_scaling_factor", default=1.0)))
        if self.get("norm_topk_prob"):
            w.add_expert_weights_norm(True)
        func = self.get("scoring_func", default="softmax")
        gating = {"softmax": GATING_SOFTMAX, "sigmoid": GATING_SIGMOID}.get(func)
        if gating is None:
            raise ConvertError(f"deepseek2: unsupported scoring_func {func!r}")
        w.add_uint32(KEY_EXPERT_GATING_FUNC.format(arch=self.gguf_arch), gating)
        if self.get("topk_method", default="greedy") not in ("greedy",) and (
            int(self.get("n_group", default=1) or 1) > 1
        ):
            raise ConvertError("deepseek2: group-limited routing is not supported by llama.cpp")
        w.add_rope_dimension_count(rope)

    def special(self, template: str, bid: int | None, ref: TensorRef) -> list[Planned] | None:
        if not template.endswith("self_attn.kv_b_proj.weight"):
            return None
        n_head = int(self.need("num_attention_heads"))
        nope, v_dim = int(self.need("qk_nope_head_dim")), int(self.need("v_head_dim"))
        kv_lora = ref.shape[-1]
        if ref.shape[0] != n_head * (nope + v_dim):
            raise ConvertError(f"{ref.name}: shape {ref.shape} != n_head*(nope+v) x kv_lora")

        def part(i: int) -> np.ndarray:
            kv_b = ref.load_f32().reshape(n_head, nope + v_dim, kv_lora)
            if i == 0:  # k_b: (n_head, kv_lora, nope), transposed for the absorbed matmul
                return np.ascontiguousarray(kv_b[:, :nope, :].transpose(0, 2, 1))
            return np.ascontiguousarray(kv_b[:, nope:, :])  # v_b: (n_head, v, kv_lora)

        return [
            Planned(gguf_name(T.ATTN_K_B, bid), T.ATTN_K_B, bid, (n_head, kv_lora, nope),
                    lambda: part(0)),
            Planned(gguf_name(T.ATTN_V_B, bid), T.ATTN_V_B, bid, (n_head, v_dim, kv_lora),
                    lambda: part(1)),
        ]
