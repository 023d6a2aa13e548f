"""Parked KV sequences with the real model: a prompt overwritten by two others comes back from
RAM with the same logits as a fresh prefill and costs one token of evaluation; the budget evicts
the least recently used; cold evaluation (clear_cache) forgets them too."""

from __future__ import annotations

import ctypes

import llama_cpp
import numpy as np
import pytest

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions
from smallcode_lsp.engine.local.generate import LocalModel
from smallcode_lsp.types import GenerationParams

CODE = [
    "import os\n\n\ndef walk(root):\n"
    + "".join(f"    a{i} = os.path.join(root, '{i}')\n" for i in range(60)),
    "class Point:\n"
    + "".join(f"    def m{i}(self, x):\n        return x * {i}\n" for i in range(40)),
    "fn main() {\n" + "".join(f"    let v{i} = vec![{i}, {i + 1}];\n" for i in range(60)) + "}\n",
]


@pytest.fixture(scope="module")
def model(default_model: str):
    loaded = LocalModel(default_model, LoadOptions(n_ctx=2048, warm_cache_mb=64))
    yield loaded
    loaded.close()


def last_logits(model: LocalModel) -> np.ndarray:
    pointer = llama_cpp.llama_get_logits_ith(model.context.ctx, -1)
    row = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float))
    return np.ctypeslib.as_array(row, shape=(model.info.n_vocab,)).copy()


def prefill(model: LocalModel, tokens: list[int]):
    return model.prefill(tokens, GenerationParams(max_tokens=8), CancelToken())


def test_a_parked_prompt_comes_back_with_the_same_logits(model: LocalModel) -> None:
    """Same as a fresh prefill up to llama.cpp's own numerics: its CPU kernels give logits that
    move by up to ~1.5 (of ~+-11) with nothing but another chunking of the same prompt, so
    the restored logits are held to that envelope, measured here, not to bit equality."""
    model.clear_cache()
    first, second, third = (model.tokenize(text) for text in CODE)
    assert min(len(first), len(second), len(third)) > 300
    prefill(model, first[:-2])  # the reference, chunked another way
    prefill(model, first[:-1])
    prefill(model, first)
    other_chunking = last_logits(model)
    model.clear_cache()
    prefill(model, first[:-1])  # the last token alone, as the restored path decodes it
    prefill(model, first)
    fresh = last_logits(model)
    envelope = float(np.abs(fresh - other_chunking).max())
    prefill(model, second)  # the other live sequence
    prefill(model, third)  # overwrites the least recently used: `first` is parked
    assert all(cache.shared_prefix(first) < 50 for cache in model.caches)
    assert len(model.parking) >= 1 and model.parking.bytes > 0
    assert model.shared_prefix(first) == len(first)  # sizing counts it as cached
    stats = prefill(model, first)
    assert stats.prompt_restored == len(first)
    assert stats.prompt_tokens_evaluated == 1  # the last token, again for its logits
    restored = last_logits(model)
    assert float(np.abs(restored - fresh).max()) <= max(1.5 * envelope, 0.05), envelope
    like_chunking = float(np.corrcoef(other_chunking, fresh)[0, 1])
    assert float(np.corrcoef(restored, fresh)[0, 1]) >= like_chunking - 0.002, like_chunking
    assert len(set(np.argsort(restored)[-5:]) & set(np.argsort(fresh)[-5:])) >= 4


def test_the_budget_evicts_the_least_recently_used(default_model: str) -> None:
    model = LocalModel(default_model, LoadOptions(n_ctx=2048, warm_cache_mb=0))
    try:
        prompts = [model.tokenize(text) for text in CODE]
        prompts += [model.tokenize(text.replace("    ", "\t")) for text in CODE]
        prefill(model, prompts[0])
        seq = next(c.seq for c in model.caches if c.shared_prefix(prompts[0]) == len(prompts[0]))
        one = llama_cpp.llama_state_seq_get_size(model.context.ctx, seq)
        model.parking.budget = int(one * 2.5)  # room for about two parked prompts
        for prompt in prompts[1:]:
            prefill(model, prompt)  # each overwrites a live sequence: four get parked
        assert model.parking.parked == 4
        assert model.parking.bytes <= model.parking.budget
        assert model.parking.best(prompts[0])[1] < 50  # the oldest went first
        newest = prompts[3]
        assert model.parking.best(newest)[1] == len(newest)  # the newest is kept
    finally:
        model.close()


def test_clear_cache_forgets_parked_prompts(model: LocalModel) -> None:
    for text in CODE:
        prefill(model, model.tokenize(text))
    assert len(model.parking) >= 1
    model.clear_cache()
    assert len(model.parking) == 0 and model.parking.bytes == 0
    assert model.shared_prefix(model.tokenize(CODE[0])) == 0
