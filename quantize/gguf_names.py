"""Tables: Hugging Face tensor names -> GGUF tensor kinds, and GGUF metadata keys.

Data, not code. `{bid}` is the block (layer) index and `{xid}` the expert index. Each HF name
carries a comment naming the model families that use it (cf. llama.cpp gguf-py tensor_mapping.py).
"""

from __future__ import annotations

from gguf.constants import MODEL_TENSOR as T
from gguf.constants import TENSOR_NAMES

# Tensors outside the blocks and the llama-style attention/norm tensors most MoE families share.
COMMON: dict[str, T] = {
    "model.embed_tokens.weight": T.TOKEN_EMBD,  # mixtral qwen*moe olmoe granitemoe deepseek2
    "model.norm.weight": T.OUTPUT_NORM,  # all of the above
    "lm_head.weight": T.OUTPUT,  # all of the above (absent when embeddings are tied)
    "model.layers.{bid}.input_layernorm.weight": T.ATTN_NORM,  # all of the above
    "model.layers.{bid}.post_attention_layernorm.weight": T.FFN_NORM,  # all of the above
    "model.layers.{bid}.self_attn.q_proj.weight": T.ATTN_Q,  # all but deepseek2-with-q-lora
    "model.layers.{bid}.self_attn.k_proj.weight": T.ATTN_K,  # llama mixtral qwen* olmoe granitemoe
    "model.layers.{bid}.self_attn.v_proj.weight": T.ATTN_V,  # llama mixtral qwen* olmoe granitemoe
    "model.layers.{bid}.self_attn.o_proj.weight": T.ATTN_OUT,  # all of the above
}

# q/k/v biases: qwen2moe only.
QKV_BIAS: dict[str, T] = {
    "model.layers.{bid}.self_attn.q_proj.bias": T.ATTN_Q,  # qwen2moe
    "model.layers.{bid}.self_attn.k_proj.bias": T.ATTN_K,  # qwen2moe
    "model.layers.{bid}.self_attn.v_proj.bias": T.ATTN_V,  # qwen2moe
}

QK_NORM: dict[str, T] = {
    "model.layers.{bid}.self_attn.q_norm.weight": T.ATTN_Q_NORM,  # qwen3moe olmoe
    "model.layers.{bid}.self_attn.k_norm.weight": T.ATTN_K_NORM,  # qwen3moe olmoe
}

# Router + routed experts in the qwen/olmoe/deepseek naming (`mlp.experts.{xid}.*_proj`).
QWEN_STYLE_MOE: dict[str, T] = {
    "model.layers.{bid}.mlp.gate.weight": T.FFN_GATE_INP,  # qwen2moe qwen3moe olmoe deepseek2
    "model.layers.{bid}.mlp.experts.{xid}.gate_proj.weight": T.FFN_GATE_EXP,  # same
    "model.layers.{bid}.mlp.experts.{xid}.up_proj.weight": T.FFN_UP_EXP,  # same
    "model.layers.{bid}.mlp.experts.{xid}.down_proj.weight": T.FFN_DOWN_EXP,  # same
    # Fused 3-D layout written by transformers >= 5 (gate|up concatenated on dim 1).
    "model.layers.{bid}.mlp.experts.down_proj": T.FFN_DOWN_EXP,  # qwen*moe olmoe (fused)
}

# Mixtral naming: w1 = gate, w3 = up, w2 = down.
MIXTRAL_MOE: dict[str, T] = {
    "model.layers.{bid}.block_sparse_moe.gate.weight": T.FFN_GATE_INP,  # mixtral
    "model.layers.{bid}.block_sparse_moe.experts.{xid}.w1.weight": T.FFN_GATE_EXP,  # mixtral
    "model.layers.{bid}.block_sparse_moe.experts.{xid}.w3.weight": T.FFN_UP_EXP,  # mixtral
    "model.layers.{bid}.block_sparse_moe.experts.{xid}.w2.weight": T.FFN_DOWN_EXP,  # mixtral
    "model.layers.{bid}.mlp.gate.weight": T.FFN_GATE_INP,  # mixtral (transformers >= 5)
    "model.layers.{bid}.mlp.experts.down_proj": T.FFN_DOWN_EXP,  # mixtral (fused, transformers 5)
}

# Shared experts.
QWEN2_SHARED: dict[str, T] = {
    "model.layers.{bid}.mlp.shared_expert.gate_proj.weight": T.FFN_GATE_SHEXP,  # qwen2moe
    "model.layers.{bid}.mlp.shared_expert.up_proj.weight": T.FFN_UP_SHEXP,  # qwen2moe
    "model.layers.{bid}.mlp.shared_expert.down_proj.weight": T.FFN_DOWN_SHEXP,  # qwen2moe
    "model.layers.{bid}.mlp.shared_expert_gate.weight": T.FFN_GATE_INP_SHEXP,  # qwen2moe
}

DEEPSEEK_SHARED: dict[str, T] = {
    "model.layers.{bid}.mlp.shared_experts.gate_proj.weight": T.FFN_GATE_SHEXP,  # deepseek2
    "model.layers.{bid}.mlp.shared_experts.up_proj.weight": T.FFN_UP_SHEXP,  # deepseek2
    "model.layers.{bid}.mlp.shared_experts.down_proj.weight": T.FFN_DOWN_SHEXP,  # deepseek2
}

# Dense FFN (deepseek2's leading dense blocks; dense llama/qwen checkpoints).
DENSE_FFN: dict[str, T] = {
    "model.layers.{bid}.mlp.gate_proj.weight": T.FFN_GATE,  # deepseek2 (first_k_dense_replace)
    "model.layers.{bid}.mlp.up_proj.weight": T.FFN_UP,  # deepseek2
    "model.layers.{bid}.mlp.down_proj.weight": T.FFN_DOWN,  # deepseek2
}

DEEPSEEK2_MLA: dict[str, T] = {
    "model.layers.{bid}.self_attn.q_a_proj.weight": T.ATTN_Q_A,  # deepseek2 (q_lora_rank set)
    "model.layers.{bid}.self_attn.q_b_proj.weight": T.ATTN_Q_B,  # deepseek2
    "model.layers.{bid}.self_attn.q_a_layernorm.weight": T.ATTN_Q_A_NORM,  # deepseek2
    "model.layers.{bid}.self_attn.kv_a_proj_with_mqa.weight": T.ATTN_KV_A_MQA,  # deepseek2
    "model.layers.{bid}.self_attn.kv_a_layernorm.weight": T.ATTN_KV_A_NORM,  # deepseek2
    # kv_b_proj is split into k_b / v_b by the deepseek2 module (MLA absorbed form).
    "model.layers.{bid}.self_attn.kv_b_proj.weight": T.ATTN_KV_B,  # deepseek2
}

# Granite MoE: gate|up fused per layer in one 3-D tensor, router under `router.layer`.
GRANITE_MOE: dict[str, T] = {
    "model.layers.{bid}.block_sparse_moe.router.layer.weight": T.FFN_GATE_INP,  # granitemoe
    "model.layers.{bid}.block_sparse_moe.output_linear.weight": T.FFN_DOWN_EXP,  # granitemoe
    "model.layers.{bid}.shared_mlp.output_linear.weight": T.FFN_DOWN_SHEXP,  # granitemoe-shared
}

# Fused gate|up expert tensors: HF name -> (gate kind, up kind). Shape (n_expert, 2*n_ff, n_embd).
FUSED_GATE_UP: dict[str, tuple[T, T]] = {
    # qwen2moe qwen3moe olmoe mixtral as saved by transformers >= 5
    "model.layers.{bid}.mlp.experts.gate_up_proj": (T.FFN_GATE_EXP, T.FFN_UP_EXP),
    # granitemoe (published layout)
    "model.layers.{bid}.block_sparse_moe.input_linear.weight": (T.FFN_GATE_EXP, T.FFN_UP_EXP),
    # granitemoe-shared
    "model.layers.{bid}.shared_mlp.input_linear.weight": (T.FFN_GATE_SHEXP, T.FFN_UP_SHEXP),
}

# Tensors a converter must keep in F32 whatever the requested type: routers are tiny and
# routing decisions flip with small errors (llama.cpp's quantizer never quantizes them either).
KEEP_F32: frozenset[T] = frozenset({T.FFN_GATE_INP, T.FFN_GATE_INP_SHEXP, T.FFN_EXP_PROBS_B})

EXPERT_KINDS: frozenset[T] = frozenset({T.FFN_GATE_EXP, T.FFN_UP_EXP, T.FFN_DOWN_EXP})


def gguf_name(kind: T, bid: int | None, suffix: str = ".weight") -> str:
    """GGUF tensor name for a kind, e.g. blk.3.ffn_gate_exps.weight."""
    base = TENSOR_NAMES[kind]
    return (base.format(bid=bid) if bid is not None else base) + suffix


# GGUF metadata keys beyond what GGUFWriter has helpers for; `{arch}` is the architecture name.
KEY_EXPERT_GATING_FUNC = "{arch}.expert_gating_func"
GATING_SOFTMAX = 1  # llama.cpp LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX
GATING_SIGMOID = 2  # llama.cpp LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID

FIM_KEYS: dict[str, str] = {
    # GGUF key suffix -> token texts a tokenizer may use for it (first found wins).
    "fim_pre_token_id": "<|fim_prefix|> <fim_prefix> <PRE>",
    "fim_suf_token_id": "<|fim_suffix|> <fim_suffix> <SUF>",
    "fim_mid_token_id": "<|fim_middle|> <fim_middle> <MID>",
    "fim_pad_token_id": "<|fim_pad|> <fim_pad> <PAD>",
    "fim_rep_token_id": "<|repo_name|> <repo_name> <reponame>",
    "fim_sep_token_id": "<|file_sep|> <file_sep>",
}

# Pre-tokenizer regex (from tokenizer.json's Split) -> llama.cpp `tokenizer.ggml.pre` name.
# llama.cpp refuses unknown names, so an unknown regex is an error, not a guess.
PRE_TOKENIZERS: dict[str, str] = {
    # Qwen2 / Qwen2.5 / Qwen3 / Qwen3-Coder
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+": "qwen2",
    # Llama 3 (also used by many llama-3 derived coders)
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+": "llama-bpe",
}
