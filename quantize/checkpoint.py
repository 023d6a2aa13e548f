"""Torch-free, memory-mapped reader of a Hugging Face checkpoint directory.

Only headers are parsed up front; tensor bytes are read lazily through np.memmap, so a tensor
costs memory only while it is being converted.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Same cap as the safetensors library: a header claiming more is malformed, not read.
MAX_HEADER_BYTES = 100_000_000


class CheckpointError(Exception):
    """Bad input: the message names the file or tensor at fault."""


# safetensors dtype -> (numpy storage dtype, bytes per element). BF16 is stored as uint16.
_DTYPES: dict[str, tuple[np.dtype[Any], int]] = {
    "F32": (np.dtype("<f4"), 4),
    "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2),
}


@dataclass(frozen=True)
class TensorRef:
    """Where one tensor lives: file, dtype, shape and absolute byte offset."""

    name: str
    path: Path
    dtype: str
    shape: tuple[int, ...]
    offset: int

    def load_f32(self) -> np.ndarray:
        """Read the tensor (memory-mapped) and widen it to float32."""
        storage, _ = _DTYPES[self.dtype]
        count = int(np.prod(self.shape)) if self.shape else 1
        mm = np.memmap(self.path, dtype=storage, mode="r", offset=self.offset, shape=(count,))
        if self.dtype == "BF16":
            # bf16 is the top half of an f32: shift into place instead of needing torch.
            out = (mm.astype(np.uint32) << 16).view(np.float32)
        else:
            out = mm.astype(np.float32)
        del mm
        return out.reshape(self.shape)


def _read_header(path: Path) -> dict[str, TensorRef]:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            raw_len = f.read(8)
            if len(raw_len) < 8:
                raise CheckpointError(f"{path}: truncated safetensors file (no header)")
            (n,) = struct.unpack("<Q", raw_len)
            if n > size - 8:
                raise CheckpointError(f"{path}: truncated safetensors file (header of {n} bytes)")
            if n > MAX_HEADER_BYTES:  # checked before reading: never allocate what it claims
                raise CheckpointError(
                    f"{path}: safetensors header of {n} bytes exceeds the "
                    f"{MAX_HEADER_BYTES}-byte limit"
                )
            header = json.loads(f.read(n))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot read safetensors header: {e}") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")
    base = 8 + n
    refs: dict[str, TensorRef] = {}
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise CheckpointError(
                f"{path}: tensor {name!r}: malformed header entry (needs dtype, shape and "
                f"data_offsets [start, end]): {str(info)[:200]}"
            ) from None
        if not (isinstance(shape, list) and all(_is_uint(d) for d in shape)):
            raise CheckpointError(f"{path}: tensor {name!r}: invalid shape {str(shape)[:200]}")
        if not (_is_uint(start) and _is_uint(end) and start <= end):
            raise CheckpointError(
                f"{path}: tensor {name!r}: invalid data_offsets [{start}, {end}] "
                "(need 0 <= start <= end)"
            )
        if base + end > size:
            raise CheckpointError(
                f"{path}: truncated safetensors file: tensor {name!r} needs bytes up to "
                f"{base + end}, file has {size}"
            )
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise CheckpointError(
                f"{path}: tensor {name!r} has dtype {dtype}; only F32, F16 and BF16 are supported"
            )
        want = math.prod(shape) * _DTYPES[dtype][1]  # Python ints: no overflow on absurd shapes
        if end - start != want:
            raise CheckpointError(
                f"{path}: tensor {name!r}: shape {shape} as {dtype} is {want} bytes but "
                f"data_offsets [{start}, {end}] span {end - start}"
            )
        spans.append((start, end, name))
        refs[name] = TensorRef(name, path, dtype, tuple(shape), base + start)
    spans.sort()
    for (_, prev_end, prev), (start, _, name) in itertools.pairwise(spans):
        if start < prev_end:
            raise CheckpointError(
                f"{path}: tensors {prev!r} and {name!r} have overlapping data_offsets"
            )
    return refs


def _is_uint(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


@dataclass
class Checkpoint:
    """config.json + all safetensors headers of a checkpoint directory."""

    root: Path
    config: dict[str, Any]
    tensors: dict[str, TensorRef]

    @property
    def source_dtypes(self) -> set[str]:
        """The dtypes present among the tensors."""
        return {t.dtype for t in self.tensors.values()}


def open_checkpoint(root: Path) -> Checkpoint:
    """Parse config.json and every shard header; raise CheckpointError naming what is wrong."""
    root = Path(root)
    if not root.is_dir():
        raise CheckpointError(f"{root}: checkpoint directory does not exist")
    cfg_path = root / "config.json"
    if not cfg_path.is_file():
        raise CheckpointError(f"{root}: missing config.json")
    try:
        config = json.loads(cfg_path.read_text())
    except ValueError as e:
        raise CheckpointError(f"{cfg_path}: invalid JSON: {e}") from e
    index = root / "model.safetensors.index.json"
    if index.is_file():
        weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
        shards = sorted(set(weight_map.values()))
        missing = [s for s in shards if not (root / s).is_file()]
        if missing:
            raise CheckpointError(f"{root}: missing shard(s) listed in {index.name}: {missing}")
        files = [root / s for s in shards]
    else:
        files = sorted(root.glob("*.safetensors"))
        if not files:
            raise CheckpointError(f"{root}: no *.safetensors files")
    tensors: dict[str, TensorRef] = {}
    for f in files:
        tensors.update(_read_header(f))
    if index.is_file():
        absent = sorted(set(weight_map) - set(tensors))
        if absent:
            raise CheckpointError(f"{root}: tensors in the index but in no shard: {absent[:5]}")
    return Checkpoint(root, config, tensors)
