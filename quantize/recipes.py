"""Target types and the expert-aware recipe: per-tensor type overrides for llama_model_quantize.

In a MoE the routed experts hold almost all the bytes (Qwen3-Coder-30B-A3B: ~95% of the
weights) while each token touches only top-k of them; everything else runs for every token. So
the recipe spends bits where every token goes and saves them where the bytes are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gguf import GGMLQuantizationType as Q

# User-facing type name -> llama_ftype (include/llama.h) and the base ggml type of the bulk.
FTYPES: dict[str, tuple[int, Q]] = {
    "F32": (0, Q.F32),
    "F16": (1, Q.F16),
    "BF16": (32, Q.BF16),
    "Q8_0": (7, Q.Q8_0),
    "Q4_0": (2, Q.Q4_0),
    "Q5_0": (8, Q.Q5_0),
    "Q4_K_S": (14, Q.Q4_K),
    "Q4_K_M": (15, Q.Q4_K),
    "Q5_K_M": (17, Q.Q5_K),
    "Q6_K": (18, Q.Q6_K),
}
FLOAT_TYPES = ("F32", "F16", "BF16")

# One step up in precision, for the sensitive layers' experts.
_STEP_UP: dict[Q, Q] = {
    Q.Q4_0: Q.Q5_0,
    Q.Q5_0: Q.Q8_0,
    Q.Q4_K: Q.Q5_K,
    Q.Q5_K: Q.Q6_K,
    Q.Q6_K: Q.Q8_0,
    Q.Q8_0: Q.Q8_0,
}


@dataclass(frozen=True)
class Recipe:
    """Overrides are (regex, type), first match wins (llama.cpp tt_overrides semantics)."""

    ftype: int
    overrides: list[tuple[str, Q]] = field(default_factory=list)
    token_embd: Q | None = None
    output: Q | None = None


def make_recipe(type_name: str, recipe: str, n_layer: int) -> Recipe:
    """The Recipe for a quantized target type; `uniform` is llama.cpp's stock mixture."""
    ftype, base = FTYPES[type_name]
    if recipe == "uniform" or base == Q.Q8_0:
        return Recipe(ftype)
    if recipe != "expert-aware":
        raise ValueError(f"unknown recipe {recipe!r}")
    up = _STEP_UP[base]
    edge = "|".join(sorted({"0", str(n_layer - 1)}))
    overrides = [
        # First and last blocks: the first sees raw embeddings, the last feeds the logits;
        # llama.cpp's own use_more_bits() favours the same layers.
        (rf"^blk\.({edge})\.ffn_(gate|up|down)_exps", up),
        # Routed experts: the bulk of the bytes, at the requested type.
        (r"ffn_(gate|up)_exps", base),
        # down_exps writes straight into the residual stream: one step up, as stock Q4_K_M
        # does for ffn_down, but on every layer rather than half of them.
        (r"ffn_down_exps", up),
        # Shared experts, dense FFNs and attention run for every token and are small.
        (r"_shexp", Q.Q8_0),
        (r"ffn_(gate|up|down)\.weight", Q.Q8_0),
        (r"attn_", Q.Q8_0),
    ]
    return Recipe(ftype, overrides, token_embd=Q.Q8_0, output=Q.Q8_0)
