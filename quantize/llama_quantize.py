"""In-process call of llama.cpp's llama_model_quantize (K-quants, per-tensor type overrides)."""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path
from typing import Any

from quantize.recipes import Recipe

MAX_BUF_BYTES = 512 * 1024 * 1024


class QuantizeError(RuntimeError):
    """llama_model_quantize returned non-zero."""


def quantize_file(
    src: Path, dst: Path, recipe: Recipe, nthread: int = 0, verbose: bool = False
) -> None:
    """Quantize GGUF `src` (F32/F16/BF16) into `dst` following `recipe`."""
    from llama_cpp import _logger  # imported late: loading libllama takes a moment
    from llama_cpp import llama_cpp as C

    # llama.cpp logs one line per tensor (and one per override) through this logger. Its
    # ggml-level -> logging-level table is stale in 0.3.36 (WARN maps to ERROR), so silence
    # everything; failures still surface as the return code.
    level = _logger.logger.level
    _logger.logger.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
    try:
        _quantize(C, src, dst, recipe, nthread)
    finally:
        _logger.logger.setLevel(level)


def _quantize(C: Any, src: Path, dst: Path, recipe: Recipe, nthread: int) -> None:
    params = C.llama_model_quantize_default_params()
    params.ftype = recipe.ftype
    params.nthread = nthread or os.cpu_count() or 1
    # llama.cpp keeps up to 8 GiB of rows in flight by default; cap it so quantizing stays
    # within laptop memory (one stacked expert tensor of Qwen3-30B-A3B is ~400 MB in F16).
    params.max_buf_size = MAX_BUF_BYTES
    if recipe.token_embd is not None:
        params.token_embedding_type = int(recipe.token_embd)
    if recipe.output is not None:
        params.output_tensor_type = int(recipe.output)
    # NULL-pattern-terminated array; `keep` holds the bytes alive during the call.
    keep = [p.encode() for p, _ in recipe.overrides]
    arr = (C.llama_model_tensor_override * (len(keep) + 1))()
    for i, (pat, (_, qtype)) in enumerate(zip(keep, recipe.overrides, strict=True)):
        arr[i].pattern = pat
        arr[i].type = int(qtype)
    arr[len(keep)].pattern = None
    if keep:
        params.tt_overrides = ctypes.cast(arr, ctypes.POINTER(C.llama_model_tensor_override))
    rc = C.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    if rc != 0:
        raise QuantizeError(f"llama_model_quantize({src.name} -> {dst.name}) returned {rc}")
