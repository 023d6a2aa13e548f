"""Qwen3-MoE (Qwen3-30B-A3B, Qwen3-Coder-30B-A3B): q/k norms, no shared expert, NEOX rope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gguf import GGUFWriter
from gguf.constants import MODEL_TENSOR as T

from quantize.arches.base import Arch, ConvertError
from quantize.gguf_names import COMMON, QK_NORM, QWEN_STYLE_MOE
from quantize.registry import register


@register("Qwen3MoeForCausalLM")
class Qwen3Moe(Arch):
    """llama.cpp arch `qwen3moe`."""

    gguf_arch = "qwen3moe"
    tables: ClassVar[tuple[Mapping[str, T], ...]] = (COMMON, QK_NORM, QWEN_STYLE_MOE)
    # llama.cpp's qwen3moe graph always renormalises the top-k weights (norm_w = true).
    norm_topk: ClassVar[bool] = True

    def extra_metadata(self, w: GGUFWriter) -> None:
        # qwen3moe reads expert_feed_forward_length; without it n_ff / n_expert_used is guessed.
        w.add_expert_feed_forward_length(int(self.need("moe_intermediate_size")))
        self.check_router()

    def check_router(self) -> None:
        """Refuse configs whose routing differs from what llama.cpp's graph hard-codes."""
        if bool(self.get("norm_topk_prob", default=self.norm_topk)) != self.norm_topk:
            raise ConvertError(
                f"{self.gguf_arch}: norm_topk_prob={self.cfg.get('norm_topk_prob')} but llama.cpp "
                f"hard-codes {self.norm_topk} for this architecture"
            )
        if self.get("mlp_only_layers") or int(self.get("decoder_sparse_step", default=1)) != 1:
            raise ConvertError(f"{self.gguf_arch}: dense (mlp_only) layers are not supported")
