"""MoE placement knob: keep expert tensors in CPU memory while the rest runs on the GPU.

The same as llama.cpp's `--cpu-moe` / `--n-cpu-moe N`: a tensor-buffer-type override whose
pattern matches the stacked expert tensors. The routed experts are most of a MoE model's bytes
but only top-k of them are read per token, so they cost little on the CPU, while attention and
the shared tensors get the GPU. llama-cpp-python 0.3.36 does not expose the override in its
high-level API; the low-level struct field takes a NULL-terminated array.
"""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import llama_cpp

_EXPERTS = r"ffn_(up|down|gate)_exps"


class _BuftOverride(ctypes.Structure):
    # struct llama_model_tensor_buft_override { const char *pattern; buffer_type_t buft; }
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


def expert_pattern(layers: int) -> str:
    """Regex of the expert tensors to keep on the CPU: all layers (-1) or the first `layers`."""
    if layers < 0:
        return r"\." + _EXPERTS
    return r"blk\.(" + "|".join(str(i) for i in range(layers)) + r")\." + _EXPERTS


def _cpu_buffer_type() -> int:
    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    candidates = sorted(lib_dir.glob("libggml-base.*")) + sorted(lib_dir.glob("ggml-base.*"))
    for candidate in candidates:
        try:
            lib = ctypes.CDLL(str(candidate))
        except OSError:
            continue
        lib.ggml_backend_cpu_buffer_type.restype = ctypes.c_void_p
        return int(lib.ggml_backend_cpu_buffer_type())
    raise OSError(f"ggml base library not found in {lib_dir}")


def cpu_expert_overrides(layers: int) -> ctypes.Array[Any]:
    """The override array (keep a reference while the model loads)."""
    overrides = (_BuftOverride * 2)()
    overrides[0].pattern = expert_pattern(layers).encode()
    overrides[0].buft = _cpu_buffer_type()
    overrides[1].pattern = None
    return overrides
