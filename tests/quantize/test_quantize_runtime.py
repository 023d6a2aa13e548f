"""What the editor integration relies on: tokenizer parity, expert metadata, FIM ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import llama_cpp
import pytest
from tokenizers import Tokenizer

from quantize.inspect_gguf import summarize
from quantize.verify import SAMPLES, compare, hf_logits, llama_logits, open_llama

CODE = [*SAMPLES, "x = {'a': [1, 2.5e-3, None]}  # héllo wörld\n\tif x:\n\r\n  return  x\n"]


@pytest.mark.parametrize("arch", ["qwen3moe", "deepseek2"])
def test_tokenization_matches_hf(
    arch: str, checkpoint: Callable[..., Path], gguf_file: Callable[..., Path]
) -> None:
    hf = Tokenizer.from_file(str(checkpoint(arch) / "tokenizer.json"))
    llm = open_llama(gguf_file(arch, "F16"))
    for text in CODE:
        want = hf.encode(text, add_special_tokens=False).ids
        assert llm.tokenize(text.encode(), add_bos=False, special=False) == want, text
        assert llm.detokenize(want).decode() == text
    # Special tokens are single ids when parsed as special.
    fim = "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"
    want = hf.encode(fim, add_special_tokens=False).ids
    assert llm.tokenize(fim.encode(), add_bos=False, special=True) == want
    llm.close()


def test_fim_ids_found_by_llama_cpp(checkpoint: Callable[..., Path], gguf_file: Callable) -> None:
    vocab_ids = Tokenizer.from_file(str(checkpoint("qwen3moe") / "tokenizer.json")).get_vocab()
    llm = open_llama(gguf_file("qwen3moe", "F16"))
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    got = {
        "pre": llama_cpp.llama_vocab_fim_pre(vocab), "suf": llama_cpp.llama_vocab_fim_suf(vocab),
        "mid": llama_cpp.llama_vocab_fim_mid(vocab), "pad": llama_cpp.llama_vocab_fim_pad(vocab),
        "rep": llama_cpp.llama_vocab_fim_rep(vocab), "sep": llama_cpp.llama_vocab_fim_sep(vocab),
    }
    llm.close()
    assert got == {
        "pre": vocab_ids["<|fim_prefix|>"], "suf": vocab_ids["<|fim_suffix|>"],
        "mid": vocab_ids["<|fim_middle|>"], "pad": vocab_ids["<|fim_pad|>"],
        "rep": vocab_ids["<|repo_name|>"], "sep": vocab_ids["<|file_sep|>"],
    }


def test_expert_count_and_used_override(
    checkpoint: Callable[..., Path], gguf_file: Callable[..., Path]
) -> None:
    path = gguf_file("qwen3moe", "F32")
    s = summarize(path)
    assert (s.arch, s.expert_count, s.expert_used_count) == ("qwen3moe", 4, 2)
    assert s.tensor_types["blk.0.ffn_gate_inp.weight"] == "F32"  # router kept F32
    llm = open_llama(path)
    assert llm.metadata["qwen3moe.expert_count"] == "4"
    seqs = [llm.tokenize(t.encode(), add_bos=False) for t in SAMPLES[:2]]
    llm.close()
    # Load-time override of top-k must give what transformers gives with that top-k.
    for k in (1, 4):
        llm = open_llama(path, kv_overrides={"qwen3moe.expert_used_count": k})
        got = llama_logits(llm, seqs)
        llm.close()
        want = hf_logits(checkpoint("qwen3moe"), seqs, num_experts_per_tok=k)
        r = compare(want, got)
        assert r.max_abs < 2e-3 and r.top1 == 1.0, (k, r.line())
