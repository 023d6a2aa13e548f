"""Granite MoE (ibm-granite/granite-3.x-*-a*): llama-style Q/K permutation, gate|up fused per
layer in the published checkpoints, embedding/residual/attention/logit multipliers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from gguf import GGUFWriter
from gguf.constants import MODEL_TENSOR as T

from quantize.arches.base import Arch
from quantize.arches.mixtral import unpermute_rope
from quantize.gguf_names import COMMON, GRANITE_MOE, QWEN_STYLE_MOE
from quantize.registry import register

# transformers >= 5 spells the router and experts differently from the published checkpoints.
_GRANITE_TF5: dict[str, T] = {
    "model.layers.{bid}.block_sparse_moe.router.weight": T.FFN_GATE_INP,  # granitemoe (tf 5)
    "model.layers.{bid}.block_sparse_moe.experts.down_proj": T.FFN_DOWN_EXP,  # granitemoe (tf 5)
}


@register("GraniteMoeForCausalLM", "GraniteMoeSharedForCausalLM")
class GraniteMoe(Arch):
    """llama.cpp arch `granitemoe`."""

    gguf_arch = "granitemoe"
    tables = (COMMON, GRANITE_MOE, _GRANITE_TF5, QWEN_STYLE_MOE)
    fused: ClassVar[Mapping[str, tuple[T, T]]] = {
        **Arch.fused,
        "model.layers.{bid}.block_sparse_moe.experts.gate_up_proj": (T.FFN_GATE_EXP, T.FFN_UP_EXP),
    }

    def head_dim(self) -> int | None:
        return None  # llama.cpp's granite ignores head_dim (hidden / heads)

    def extra_metadata(self, w: GGUFWriter) -> None:
        w.add_vocab_size(int(self.need("vocab_size")))
        w.add_rope_dimension_count(int(self.need("hidden_size")) // int(
            self.need("num_attention_heads")))
        if (v := self.get("shared_intermediate_size")):
            w.add_expert_shared_feed_forward_length(int(v))
        # HF *_multiplier -> GGUF *_scale (same meaning).
        w.add_attention_scale(float(self.get("attention_multiplier", default=1.0)))
        w.add_embedding_scale(float(self.get("embedding_multiplier", default=1.0)))
        w.add_residual_scale(float(self.get("residual_multiplier", default=1.0)))
        w.add_logit_scale(float(self.get("logits_scaling", default=1.0)))

    def transform(self, kind: T, hf_name: str, data: np.ndarray) -> np.ndarray:
        n_head = int(self.need("num_attention_heads"))
        if kind == T.ATTN_Q:
            return unpermute_rope(data, n_head)
        if kind == T.ATTN_K:
            return unpermute_rope(data, int(self.get("num_key_value_heads", default=n_head)))
        return data
