"""Checkpoint directory -> GGUF, streaming: one tensor in memory at a time (one layer's stacked
experts at most), written to a temporary file renamed only on success."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_VERSION, GGUFWriter
from gguf import GGMLQuantizationType as Q
from tqdm import tqdm

from quantize.arches.base import Arch, ConvertError, Planned
from quantize.checkpoint import Checkpoint, open_checkpoint
from quantize.gguf_names import KEEP_F32
from quantize.llama_quantize import quantize_file
from quantize.recipes import FLOAT_TYPES, FTYPES, make_recipe
from quantize.registry import lookup
from quantize.vocab import write_vocab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """What convert() produced."""

    path: Path
    n_tensors: int
    bytes_read: int
    fim_ids: dict[str, int]


def load_arch(ckpt: Checkpoint) -> Arch:
    """Instantiate the registered Arch for the checkpoint's config."""
    try:
        return lookup(ckpt.config)(ckpt.config)
    except KeyError as e:
        raise ConvertError(f"{ckpt.root}: {e.args[0]}") from None


def _cast(data: np.ndarray, qtype: Q) -> np.ndarray:
    if qtype == Q.F32:
        return data.astype(np.float32, copy=False)
    if qtype == Q.F16:
        return data.astype(np.float16)
    # BF16 with round-to-nearest-even, as torch/ggml do (NaNs are not expected in weights).
    u = data.astype(np.float32, copy=False).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def _tensor_type(p: Planned, float_type: Q) -> Q:
    # 1-D tensors (norms, biases) and routers stay F32, like llama.cpp's converter.
    if len(p.shape) == 1 or p.kind in KEEP_F32:
        return Q.F32
    return float_type


def write_float_gguf(
    ckpt: Checkpoint, arch: Arch, plan: list[Planned], path: Path, float_name: str,
    progress: bool = True, pre: str | None = None,
) -> tuple[int, dict[str, int]]:
    """Write an F32/F16/BF16 GGUF for `plan` at `path`; return (bytes read, FIM ids)."""
    ftype, float_type = FTYPES[float_name]
    w = GGUFWriter(path=None, arch=arch.gguf_arch)
    w.add_name(ckpt.root.name)
    arch.write_metadata(w)
    w.add_file_type(ftype)
    w.add_quantization_version(GGML_QUANT_VERSION)
    fim = write_vocab(w, ckpt.root, int(ckpt.config.get("vocab_size", 0)), pre)
    types = [_tensor_type(p, float_type) for p in plan]
    for p, t in zip(plan, types, strict=True):
        np_dtype = {Q.F32: np.float32, Q.F16: np.float16, Q.BF16: np.uint16}[t]
        nbytes = int(np.prod(p.shape)) * np.dtype(np_dtype).itemsize
        w.add_tensor_info(p.name, p.shape, np.dtype(np_dtype), nbytes, raw_dtype=t)
    w.open_output_file(path)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    read = 0
    bar = tqdm(plan, desc=f"write {float_name}", unit="tensor", disable=not progress)
    for p, t in zip(bar, types, strict=True):
        data = p.load()
        if data.shape != p.shape:
            raise ConvertError(f"{p.name}: loaded shape {data.shape}, planned {p.shape}")
        read += data.size * 4
        w.write_tensor_data(_cast(data, t))
        del data  # drop before loading the next tensor: keeps peak memory at one tensor
    w.close()
    return read, fim


def convert(
    src: Path, out: Path, type_name: str = "F16", recipe: str = "expert-aware",
    force: bool = False, progress: bool = True, verbose: bool = False, pre: str | None = None,
) -> Result:
    """Convert checkpoint `src` to `out` at `type_name`; nothing is left at `out` on failure."""
    if type_name not in FTYPES:
        raise ConvertError(f"unknown type {type_name!r}; choose from {sorted(FTYPES)}")
    out = Path(out)
    if out.exists() and not force:
        raise ConvertError(f"{out} exists; pass --force to overwrite it")
    ckpt = open_checkpoint(Path(src))
    arch = load_arch(ckpt)
    plan = arch.plan(ckpt)  # every name mapped before a byte is written
    tmp = out.with_name(f".{out.name}.partial")
    base = out.with_name(f".{out.name}.base.partial")
    try:
        if type_name in FLOAT_TYPES:
            read, fim = write_float_gguf(ckpt, arch, plan, tmp, type_name, progress, pre)
        else:
            # K-quants exist only in llama.cpp: write a lossless-enough base, then quantize.
            base_type = "BF16" if ckpt.source_dtypes == {"BF16"} else "F16"
            read, fim = write_float_gguf(ckpt, arch, plan, base, base_type, progress, pre)
            quantize_file(base, tmp, make_recipe(type_name, recipe, arch.n_layer),
                          verbose=verbose)
        os.replace(tmp, out)
    except OSError as e:
        # Disk full / size limit / permissions: say which output, and that nothing is left.
        raise OSError(e.errno, f"writing {out} failed ({e.strerror or e}); no file left") from e
    finally:
        for p in (tmp, base):
            p.unlink(missing_ok=True)
    return Result(out, len(plan), read, fim)
