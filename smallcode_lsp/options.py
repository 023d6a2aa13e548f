"""Server settings: from `initializationOptions` and `workspace/didChangeConfiguration`.

A bad value is reported (returned as a message for the user) and replaced by the default or
the previous value: a typo in a settings file never stops the server.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from smallcode_lsp.engine.model import LoadOptions


@dataclass(frozen=True, kw_only=True)
class Settings:
    model: str | None = None  # GGUF path; None: the embedded default model
    max_tokens: int = 64
    n_ctx: int = 4096
    n_threads: int = 0  # 0: chosen from the machine
    n_gpu_layers: int = 0  # -1: all (Metal / CUDA builds)
    temperature: float = 0.0
    experts_used: int = 0  # MoE models: active experts per token; 0: the model's own
    cpu_moe: int = 0  # GPU builds: keep expert tensors of the first N layers on the CPU (-1: all)
    enable: bool = True
    disabled_languages: tuple[str, ...] = ()
    use_fim: bool = True
    context: bool = True  # workspace context: imports, definitions from other files, recent code
    shaping: bool = True  # syntax-aware single/multi-line, stopping and post-processing
    workspace_index: bool = True  # index the workspace roots (symbols for the context)
    cache_reuse: bool = True  # keep the KV cache between requests (off: only for benchmarks)
    cache_shift: bool = True  # shift cached chunks over deleted text (llama-server cache-reuse)
    latency_budget_ms: int = 1000  # Automatic requests: answer deadline (cadence-shrunk; 0: off)
    speculative: bool = True  # prompt-lookup drafts verified in batches (greedy only)
    typeahead: bool = True  # answer from an earlier suggestion the user is typing along
    prefetch: bool = True  # when idle, precompute the suggestion after the one shown
    invoked_items: int = 3  # Invoked requests: up to this many alternatives
    security_lint: bool = False  # drop suggestions that add well-known insecure patterns
    debug: bool = False  # send smallcode/completionStats notifications after each completion

    def load_options(self) -> LoadOptions:
        return LoadOptions(
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_gpu_layers=self.n_gpu_layers,
            experts_used=self.experts_used,
            cpu_moe=self.cpu_moe,
        )

    def reload_needed(self, other: Settings) -> bool:
        """True when `other` needs a different loaded model than self."""
        return self.load_options() != other.load_options() or self.model != other.model


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_BOUNDS: dict[str, tuple[float, float]] = {
    "max_tokens": (1, 4096),
    "n_ctx": (256, 1 << 20),
    "n_threads": (0, 512),
    "n_gpu_layers": (-1, 100_000),
    "temperature": (0.0, 5.0),
    "experts_used": (0, 1024),
    "cpu_moe": (-1, 10_000),
    "invoked_items": (1, 10),
    "latency_budget_ms": (0, 600_000),
}


def _coerce(name: str, expected: type, value: Any) -> Any:
    if expected is bool:
        if isinstance(value, bool):
            return value
        raise TypeError("expected true or false")
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
    elif expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        value = float(value)
    elif expected is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError("expected a list of strings")
        return tuple(value)
    elif expected is str:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise TypeError("expected a string")
        return value
    low, high = _BOUNDS.get(name, (float("-inf"), float("inf")))
    if not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}")
    return value


_TYPES = {"model": str, "disabled_languages": tuple}


def merge_settings(base: Settings, payload: Any) -> tuple[Settings, list[str]]:
    """`base` updated with the camelCase keys of `payload`; plus messages about rejected values."""
    if payload is None:
        return base, []
    if not isinstance(payload, dict):
        return base, [f"smallcode settings must be an object, got {type(payload).__name__}"]
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for f in dataclasses.fields(Settings):
        key = _camel(f.name)
        if key not in payload:
            continue
        expected = _TYPES.get(f.name) or type(getattr(base, f.name))
        try:
            changes[f.name] = _coerce(f.name, expected, payload[key])
        except (TypeError, ValueError) as exc:
            problems.append(f"setting smallcode.{key}={payload[key]!r} ignored: {exc}")
    return dataclasses.replace(base, **changes), problems


DEFAULT_SETTINGS = Settings()
