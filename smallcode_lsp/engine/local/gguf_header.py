"""Read scalar metadata from a GGUF header without parsing the vocabulary or tensors.

gguf.GGUFReader parses every field (a 262k-token vocab takes seconds in Python); we only need
a few scalars before loading (the architecture, to build the expert-count override).
"""

from __future__ import annotations

import os
import struct
from typing import Any, BinaryIO

# GGUF value types -> struct format of one scalar (strings and arrays handled separately).
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 1 << 20  # a header string longer than this means a corrupt file


class GGUFHeaderError(ValueError):
    pass


def _read(f: BinaryIO, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFHeaderError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)


def _read_string(f: BinaryIO) -> str:
    (n,) = _read(f, "Q")
    if n > _MAX_STRING:
        raise GGUFHeaderError(f"implausible string length {n} in GGUF header")
    data = f.read(n)
    if len(data) != n:
        raise GGUFHeaderError("truncated GGUF header")
    return data.decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, vtype: int) -> object:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])[0]
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        (etype,) = _read(f, "I")
        (count,) = _read(f, "Q")
        if etype in _SCALARS:  # skip the payload: arrays are vocab-sized
            f.seek(count * struct.calcsize(_SCALARS[etype]), 1)
        elif etype == _STRING:
            for _ in range(count):
                (n,) = _read(f, "Q")
                f.seek(n, 1)
        else:
            raise GGUFHeaderError(f"unsupported GGUF array element type {etype}")
        return None
    raise GGUFHeaderError(f"unknown GGUF value type {vtype}")


def read_scalars(path: str, keys: set[str]) -> dict[str, object]:
    """The scalar values of `keys` found in the GGUF header at `path`."""
    found: dict[str, object] = {}
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise GGUFHeaderError("not a GGUF file (bad magic)")
        (version,) = _read(f, "I")
        if version not in (2, 3):
            raise GGUFHeaderError(f"unsupported GGUF version {version}")
        _n_tensors, n_kv = _read(f, "QQ")
        if n_kv > 1_000_000:
            raise GGUFHeaderError(f"implausible metadata count {n_kv}")
        for _ in range(n_kv):
            key = _read_string(f)
            (vtype,) = _read(f, "I")
            value = _read_value(f, vtype)
            if key in keys:
                found[key] = value
                if len(found) == len(keys):
                    break
    return found


def _skip_metadata(f: BinaryIO, n_kv: int) -> None:
    for _ in range(n_kv):
        _read_string(f)
        (vtype,) = _read(f, "I")
        _read_value(f, vtype)


def diagnose(path: str) -> str | None:
    """Why llama.cpp may have refused the file: a truncated or corrupt GGUF (None if it looks fine).

    Walks the tensor table and checks that the file holds every tensor's data. Run only after a
    failed load: it reads the whole header, vocabulary included.
    """
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                return "not a GGUF file (bad magic)"
            _read(f, "I")  # version: any; read_scalars checks it
            n_tensors, n_kv = _read(f, "QQ")
            alignment = 32
            _skip_metadata(f, n_kv)
            end = 0
            for _ in range(n_tensors):
                _read_string(f)
                (n_dims,) = _read(f, "I")
                dims = _read(f, "Q" * n_dims)
                (ttype,) = _read(f, "I")
                (offset,) = _read(f, "Q")
                block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
                elements = 1
                for d in dims:
                    elements *= d
                end = max(end, offset + elements // block * type_size)
            data_start = -(-f.tell() // alignment) * alignment
    except (GGUFHeaderError, ValueError, KeyError, struct.error) as exc:
        return f"corrupt GGUF header ({exc})"
    if data_start + end > size:
        return (
            f"truncated GGUF file: {size} bytes, its tensors need {data_start + end} "
            "(an interrupted download or copy?)"
        )
    return None
