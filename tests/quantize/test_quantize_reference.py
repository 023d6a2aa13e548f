"""End to end, per architecture: convert a tiny per-expert checkpoint, load it in llama.cpp, and
compare logits with transformers on the same token sequences."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from quantize.verify import SAMPLES, compare, hf_logits, llama_logits, open_llama
from tests.quantize.tiny_models import ARCHES

# Several sequences of real code tokens, plus one of raw ids spanning the vocabulary.
RAW_SEQ = [5, 77, 150, 3, 200, 299, 42, 17, 250, 100, 9, 1]


def _seqs(llm: object) -> list[list[int]]:
    seqs = [llm.tokenize(s.encode(), add_bos=False, special=False) for s in SAMPLES]  # type: ignore[attr-defined]
    return [*seqs, RAW_SEQ]


@pytest.fixture(scope="module")
def reference(checkpoint: Callable[..., Path], gguf_file: Callable[..., Path]) -> Callable:
    """reference(arch) -> (seqs, transformers logits), computed once per arch."""
    cache: dict[str, tuple[list[list[int]], list]] = {}

    def get(arch: str) -> tuple[list[list[int]], list]:
        if arch not in cache:
            llm = open_llama(gguf_file(arch, "F32"))
            seqs = _seqs(llm)
            llm.close()
            cache[arch] = (seqs, hf_logits(checkpoint(arch), seqs))
        return cache[arch]

    return get


@pytest.mark.parametrize("arch", ARCHES)
def test_f32_logits_match_transformers(
    arch: str, gguf_file: Callable[..., Path], reference: Callable
) -> None:
    seqs, ref = reference(arch)
    llm = open_llama(gguf_file(arch, "F32"))
    got = llama_logits(llm, seqs)
    llm.close()
    r = compare(ref, got)
    assert r.positions == sum(len(s) for s in seqs) >= 60
    # F32 end to end: differences are float rounding only (different matmul order).
    assert r.max_abs < 5e-3 and r.mean_abs < 5e-4, r.line()
    assert r.top1 == 1.0, r.line()
    assert r.kl_max < 1e-5, r.line()


@pytest.mark.parametrize("arch", ["qwen3moe", "mixtral", "deepseek2"])
@pytest.mark.parametrize(
    ("type_name", "top1", "kl_bound"),
    [("F16", 0.95, 1e-4), ("BF16", 0.9, 2e-3), ("Q8_0", 0.9, 2e-3)],
)
def test_lower_precision_close_to_transformers(
    arch: str, type_name: str, top1: float, kl_bound: float, gguf_file: Callable[..., Path],
    reference: Callable,
) -> None:
    seqs, ref = reference(arch)
    llm = open_llama(gguf_file(arch, type_name))
    r = compare(ref, llama_logits(llm, seqs))
    llm.close()
    assert r.top1 >= top1, r.line()
    assert r.kl_mean < kl_bound, r.line()
