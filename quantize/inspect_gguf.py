"""Summary of a GGUF: architecture, experts, tensor types, bytes of experts vs the rest."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gguf import GGUFReader


@dataclass
class Summary:
    """What `inspect` prints."""

    arch: str
    expert_count: int | None
    expert_used_count: int | None
    types: Counter[str] = field(default_factory=Counter)
    tensor_types: dict[str, str] = field(default_factory=dict)
    expert_bytes: int = 0
    other_bytes: int = 0
    file_bytes: int = 0


def _field(reader: GGUFReader, key: str) -> Any:
    f = reader.get_field(key)
    return f.contents() if f is not None else None


def summarize(path: Path) -> Summary:
    """Read only headers/tensor infos (the reader memory-maps the data)."""
    r = GGUFReader(str(path))
    arch = str(_field(r, "general.architecture"))
    ec = _field(r, f"{arch}.expert_count")
    eu = _field(r, f"{arch}.expert_used_count")
    s = Summary(arch, int(ec) if ec is not None else None, int(eu) if eu is not None else None)
    for t in r.tensors:
        s.types[t.tensor_type.name] += 1
        s.tensor_types[t.name] = t.tensor_type.name
        if "_exps." in t.name:  # routed experts (3-D stacks)
            s.expert_bytes += int(t.n_bytes)
        else:
            s.other_bytes += int(t.n_bytes)
    s.file_bytes = Path(path).stat().st_size
    return s


def render(s: Summary) -> str:
    """Plain-text report."""
    mb = 1024 * 1024
    lines = [
        f"architecture: {s.arch}",
        f"experts: {s.expert_count} (used per token: {s.expert_used_count})",
        "tensor types: " + ", ".join(f"{k}={v}" for k, v in sorted(s.types.items())),
        f"routed experts: {s.expert_bytes / mb:.2f} MiB",
        f"everything else: {s.other_bytes / mb:.2f} MiB",
        f"file: {s.file_bytes / mb:.2f} MiB",
    ]
    return "\n".join(lines)
