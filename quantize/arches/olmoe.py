"""OLMoE (allenai/OLMoE-1B-7B): q/k norms over the full projection, softmax top-k not renormed."""

from __future__ import annotations

from gguf import GGUFWriter

from quantize.arches.qwen3_moe import Qwen3Moe
from quantize.registry import register


@register("OlmoeForCausalLM")
class Olmoe(Qwen3Moe):
    """llama.cpp arch `olmoe`: same tensor names as qwen3moe, different graph defaults."""

    gguf_arch = "olmoe"
    norm_topk = False  # llama.cpp olmoe graph: norm_w = false
    output_required = True  # no fallback to token_embd in llama.cpp

    def extra_metadata(self, w: GGUFWriter) -> None:
        # OLMoE's intermediate_size *is* the expert width (no moe_intermediate_size key).
        w.add_expert_feed_forward_length(int(self.need("intermediate_size")))
        self.check_router()
