"""Tiny checkpoints and their GGUFs, built once per test session (they cost seconds each)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("llama_cpp")

from quantize.convert import convert
from quantize.tiny import build_checkpoint

ARCHES = ("qwen3moe", "mixtral", "olmoe", "qwen2moe", "granitemoe", "deepseek2")


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """checkpoint(arch, **sizes) -> directory of a tiny per-expert checkpoint (cached)."""
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
