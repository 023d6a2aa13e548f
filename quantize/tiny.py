"""Tiny random MoE checkpoints for tests and benchmarks (needs torch, transformers, tokenizers).

Checkpoints are saved in the per-expert layout published checkpoints use, with a tiny byte-level
BPE tokenizer (Qwen2 pre-tokenizer regex) that includes FIM special tokens.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from quantize.gguf_names import PRE_TOKENIZERS

QWEN2_REGEX = next(r for r, name in PRE_TOKENIZERS.items() if name == "qwen2")
SPECIALS = [
    "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>",
]
CORPUS = """
def add(a, b):
    return a + b

class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

for (let i = 0; i < n; i++) { sum += values[i]; }
const result = items.map((x) => x * 2).filter((x) => x > 10);
fn main() { let v: Vec<u32> = Vec::new(); println!("{}", v.len()); }
import os, sys
print("hello world", os.path.join("a", "b"))
"""


def build_tokenizer(out: Path, vocab_size: int = 314) -> int:
    """Train and save tokenizer.json + tokenizer_config.json; return the tokenizer's size."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(SPECIALS), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([CORPUS] * 20, trainer)
    tok.add_special_tokens(SPECIALS)  # appended after the BPE vocab, as Qwen does
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>", "bos_token": None, "add_bos_token": False,
        "model_max_length": 256,
    }))
    return tok.get_vocab_size()


# Per-architecture: config class name, config kwargs, and how fused expert tensors are renamed
# into the published per-expert layout.
def _common(hidden: int, ff: int, layers: int, experts: int, tied: bool) -> dict[str, Any]:
    return dict(
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=tied,
        num_experts_per_tok=2, rms_norm_eps=1e-6,
    )


def make_config(arch: str, vocab: int, eos: int, hidden: int = 64, ff: int = 32,
                layers: int = 2, experts: int = 4, tied: bool = False) -> Any:
    """A transformers config for a tiny model of `arch`."""
    import transformers as tf

    c = _common(hidden, ff, layers, experts, tied)
    c.update(bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)
    if arch == "qwen3moe":
        return tf.Qwen3MoeConfig(  # type: ignore[call-arg]  # head_dim is a real kwarg
            vocab_size=vocab, intermediate_size=2 * ff, head_dim=hidden // 4,
            moe_intermediate_size=ff, num_experts=experts, norm_topk_prob=True, **c)
    if arch == "qwen2moe":
        return tf.Qwen2MoeConfig(vocab_size=vocab, intermediate_size=2 * ff,
                                 moe_intermediate_size=ff, shared_expert_intermediate_size=2 * ff,
                                 num_experts=experts, norm_topk_prob=False, **c)
    if arch == "mixtral":
        return tf.MixtralConfig(vocab_size=vocab, intermediate_size=ff, num_local_experts=experts,
                                **c)
    if arch == "olmoe":
        c["num_key_value_heads"] = 4
        return tf.OlmoeConfig(vocab_size=vocab, intermediate_size=ff, num_experts=experts,
                              norm_topk_prob=False, **c)
    if arch == "granitemoe":
        return tf.GraniteMoeConfig(
            vocab_size=vocab, intermediate_size=ff, num_local_experts=experts,
            embedding_multiplier=2.0, residual_multiplier=0.5, attention_multiplier=0.2,
            logits_scaling=2.0, **c)
    if arch == "deepseek2":
        c["num_key_value_heads"] = 4
        return tf.DeepseekV2Config(
            vocab_size=vocab, intermediate_size=2 * ff, moe_intermediate_size=ff,
            n_routed_experts=experts, n_shared_experts=1, first_k_dense_replace=1,
            q_lora_rank=32, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8,
            v_head_dim=16, topk_method="greedy", routed_scaling_factor=1.0,
            norm_topk_prob=False, **c)
    if arch == "llama":
        c.pop("num_experts_per_tok")
        return tf.LlamaConfig(vocab_size=vocab, intermediate_size=2 * ff, **c)
    if arch == "qwen3":
        c.pop("num_experts_per_tok")
        return tf.Qwen3Config(vocab_size=vocab, intermediate_size=2 * ff, head_dim=hidden // 4, **c)
    raise ValueError(arch)


_EXPERT_NAMES = {
    # arch -> (router rename, per-expert gate/up/down templates)
    "mixtral": (("mlp.gate.weight", "block_sparse_moe.gate.weight"),
                ("block_sparse_moe.experts.{e}.w1.weight", "block_sparse_moe.experts.{e}.w3.weight",
                 "block_sparse_moe.experts.{e}.w2.weight")),
}
# Published granite checkpoints keep experts fused: 3-D input_linear (gate|up) / output_linear.
_FUSED_RENAMES = {
    "granitemoe": {"block_sparse_moe.router.weight": "block_sparse_moe.router.layer.weight",
                   "block_sparse_moe.experts.gate_up_proj": "block_sparse_moe.input_linear.weight",
                   "block_sparse_moe.experts.down_proj": "block_sparse_moe.output_linear.weight"},
}
_QWEN_NAMES = (None, ("mlp.experts.{e}.gate_proj.weight", "mlp.experts.{e}.up_proj.weight",
                      "mlp.experts.{e}.down_proj.weight"))


def per_expert_state(arch: str, state: dict[str, Any]) -> dict[str, Any]:
    """Split transformers-5 fused expert tensors into the per-expert layout of real checkpoints."""
    router, (g_t, u_t, d_t) = _EXPERT_NAMES.get(arch, _QWEN_NAMES)
    out: dict[str, Any] = {}
    if arch in _FUSED_RENAMES:
        for name, t in state.items():
            for old, new in _FUSED_RENAMES[arch].items():
                name = name.replace(old, new)
            out[name] = t.contiguous()
        return out
    for name, t in state.items():
        m = re.match(r"^(model\.layers\.\d+\.)mlp\.experts\.(gate_up_proj|down_proj)$", name)
        if m is None:
            if router is not None and name.endswith(router[0]):
                name = name[: -len(router[0])] + router[1]
            out[name] = t.contiguous()
            continue
        pre = m.group(1)
        for e in range(t.shape[0]):
            if m.group(2) == "gate_up_proj":
                half = t.shape[1] // 2
                out[pre + g_t.format(e=e)] = t[e, :half].contiguous()
                out[pre + u_t.format(e=e)] = t[e, half:].contiguous()
            else:
                out[pre + d_t.format(e=e)] = t[e].contiguous()
    return out


def build_checkpoint(out: Path, arch: str, seed: int = 0, shards: int = 1,
                     dtype: str = "float32", **sizes: Any) -> Any:
    """Random tiny model saved per-expert (optionally sharded); returns the in-memory model."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM

    n_tok = build_tokenizer(out)
    vocab = (n_tok + 15) // 16 * 16  # padded like real checkpoints: exercises [PAD] rows
    torch.manual_seed(seed)
    cfg = make_config(arch, vocab, n_tok - len(SPECIALS), **sizes)
    model = AutoModelForCausalLM.from_config(cfg).eval()
    with torch.no_grad():  # random init is ~N(0, 0.02): widen so logits are not all ~equal
        for p in model.parameters():
            if p.ndim > 1:
                p.normal_(0, 0.08)
    state = per_expert_state(arch, model.state_dict())
    if cfg.tie_word_embeddings:  # as save_pretrained does: the head shares the embeddings
        state.pop("lm_head.weight", None)
    state = {k: v.to(getattr(torch, dtype)) for k, v in state.items()}
    cfg.architectures = [type(model).__name__]
    cfg.save_pretrained(out)
    names = sorted(state)
    if shards == 1:
        save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    else:
        weight_map: dict[str, str] = {}
        for i in range(shards):
            part = names[i::shards]
            fname = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            save_file({k: state[k] for k in part}, str(out / fname), metadata={"format": "pt"})
            weight_map.update(dict.fromkeys(part, fname))
        (out / "model.safetensors.index.json").write_text(
            json.dumps({"metadata": {}, "weight_map": weight_map}))
    return model


def write_random_qwen3moe(
    root: Path, hidden: int, ff: int, experts: int, layers: int
) -> tuple[int, int]:
    """Random F16 qwen3moe checkpoint, one shard per layer, written with numpy only (fast, no
    torch); return (total tensor bytes, bytes of the largest stacked expert tensor)."""
    import numpy as np
    from safetensors.numpy import save_file

    n_tok = build_tokenizer(root)
    vocab = (n_tok + 15) // 16 * 16
    rng = np.random.default_rng(0)
    cfg = {
        "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 64, "vocab_size": vocab,
        "intermediate_size": 2 * ff, "moe_intermediate_size": ff, "num_experts": experts,
        "num_experts_per_tok": 2, "norm_topk_prob": True, "rms_norm_eps": 1e-6,
        "max_position_embeddings": 256, "rope_theta": 1e6,
    }
    (root / "config.json").write_text(json.dumps(cfg))

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.05).astype(np.float16)

    weight_map: dict[str, str] = {}
    total = 0
    shards: list[dict[str, np.ndarray]] = [{
        "model.embed_tokens.weight": w(vocab, hidden), "lm_head.weight": w(vocab, hidden),
        "model.norm.weight": np.ones(hidden, np.float16),
    }]
    for i in range(layers):
        p = f"model.layers.{i}."
        t = {p + "input_layernorm.weight": np.ones(hidden, np.float16),
             p + "post_attention_layernorm.weight": np.ones(hidden, np.float16),
             p + "self_attn.q_proj.weight": w(hidden, hidden),
             p + "self_attn.k_proj.weight": w(256, hidden),
             p + "self_attn.v_proj.weight": w(256, hidden),
             p + "self_attn.o_proj.weight": w(hidden, hidden),
             p + "self_attn.q_norm.weight": np.ones(64, np.float16),
             p + "self_attn.k_norm.weight": np.ones(64, np.float16),
             p + "mlp.gate.weight": w(experts, hidden)}
        for e in range(experts):
            t[p + f"mlp.experts.{e}.gate_proj.weight"] = w(ff, hidden)
            t[p + f"mlp.experts.{e}.up_proj.weight"] = w(ff, hidden)
            t[p + f"mlp.experts.{e}.down_proj.weight"] = w(hidden, ff)
        shards.append(t)
    for n, t in enumerate(shards):
        fname = f"model-{n + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(t, str(root / fname))
        weight_map.update(dict.fromkeys(t, fname))
        total += sum(a.nbytes for a in t.values())
    (root / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    largest = experts * ff * hidden * 2  # one stacked expert tensor, as F16 on disk
    return total, largest
