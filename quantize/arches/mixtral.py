"""Mixtral (mistralai/Mixtral-8x7B): llama.cpp arch `llama` with experts; Q/K rows permuted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from gguf import GGUFWriter
from gguf.constants import MODEL_TENSOR as T

from quantize.arches.base import Arch
from quantize.gguf_names import COMMON, MIXTRAL_MOE
from quantize.registry import register


def unpermute_rope(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF stores Q/K rows as [all first halves | all second halves] per head (rotate_half);
    llama.cpp's NORM rope wants the two halves interleaved. Same as llama.cpp's permute()."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


@register("MixtralForCausalLM")
class Mixtral(Arch):
    """Mixtral as llama.cpp's `llama` architecture."""

    gguf_arch = "llama"
    tables: ClassVar[tuple[Mapping[str, T], ...]] = (COMMON, MIXTRAL_MOE)

    def extra_metadata(self, w: GGUFWriter) -> None:
        w.add_vocab_size(int(self.need("vocab_size")))
        n_head = int(self.need("num_attention_heads"))
        head_dim = self.get("head_dim") or int(self.need("hidden_size")) // n_head
        w.add_rope_dimension_count(int(head_dim))

    def transform(self, kind: T, hf_name: str, data: np.ndarray) -> np.ndarray:
        n_head = int(self.need("num_attention_heads"))
        if kind == T.ATTN_Q:
            return unpermute_rope(data, n_head)
        if kind == T.ATTN_K:
            return unpermute_rope(data, int(self.get("num_key_value_heads", default=n_head)))
        return data
