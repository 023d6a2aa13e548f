"""Tiny checkpoints and their GGUFs, built once per test session (they cost seconds each).

Fixtures shared by the quantizer's tests and the engine's MoE test
(tests/engine/local/test_moe_knobs.py),
registered for the whole suite by tests/conftest.py. A test that asks for one is skipped when
torch, transformers or llama_cpp is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ARCHES = ("qwen3moe", "mixtral", "olmoe", "qwen2moe", "granitemoe", "deepseek2")


def need_toolchain() -> None:
    """Skip the requesting test unless the checkpoint builder's and converter's libraries load."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("llama_cpp")


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """checkpoint(arch, **sizes) -> directory of a tiny per-expert checkpoint (cached)."""
    need_toolchain()
    from quantize.tiny import build_checkpoint

    cache: dict[tuple[str, tuple[tuple[str, int], ...]], Path] = {}

    def get(arch: str, **sizes: Any) -> Path:
        key = (arch, tuple(sorted(sizes.items())))
        if key not in cache:
            d = tmp_path_factory.mktemp(f"ckpt-{arch}")
            build_checkpoint(d, arch, **sizes)
            cache[key] = d
        return cache[key]

    return get


@pytest.fixture(scope="session")
def gguf_file(
    checkpoint: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """gguf_file(arch, type, recipe="expert-aware", **sizes) -> converted GGUF (cached)."""
    need_toolchain()
    from quantize.convert import convert

    cache: dict[tuple[object, ...], Path] = {}
    out_dir = tmp_path_factory.mktemp("gguf")

    def get(arch: str, type_name: str, recipe: str = "expert-aware", **sizes: Any) -> Path:
        key = (arch, type_name, recipe, tuple(sorted(sizes.items())))
        if key not in cache:
            suffix = "-".join(f"{k}{v}" for k, v in sorted(sizes.items()))
            out = out_dir / f"{arch}-{type_name}-{recipe}{suffix}.gguf"
            convert(checkpoint(arch, **sizes), out, type_name, recipe, progress=False)
            cache[key] = out
        return cache[key]

    return get
