"""Server settings: from `initializationOptions` and `workspace/didChangeConfiguration`.

Grouped by what they govern: `ModelSettings` (the in-process model), `EngineSettings` (a
shared engine over HTTP), `CompletionSettings` (what the user gets) and `BenchmarkSwitches`
(A/B switches for benchmarks). Each field carries
its external camelCase key, one-line description and bounds: `SETTINGS_SPEC`, built from them,
is the single source of defaults. The CLI reads it, scripts/sync_editor_settings.py writes the
editors' settings and the README table from it, and tests/lsp/test_options_sources.py checks
that they agree.

The wire format is flat: `{"maxTokens": 32, "nCtx": 2048, ...}`. A bad value is reported
(returned as a message for the user) and the previous value kept: a typo in a settings file
never stops the server.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from smallcode_lsp.engine.cpu import REPACK_CHOICES
from smallcode_lsp.engine.info import KINDS, LoadOptions, RemoteOptions

Kind = Literal["string", "integer", "number", "boolean", "array"]
Group = Literal["model", "engine", "completion", "bench"]


def setting(
    default: Any,
    description: str,
    *,
    key: str | None = None,
    bounds: tuple[float, float] | None = None,
    shown: str | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A settings field: `key` defaults to the camelCase field name; `shown` is the README's
    default column when the bare value would mislead (0 meaning "automatic"); `choices`: the
    values a string setting accepts (empty still means the default)."""
    meta = {
        "key": key,
        "description": description,
        "bounds": bounds,
        "shown": shown,
        "choices": choices,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """The in-process model, and where it runs: changing any of these reloads the model."""

    path: str | None = setting(
        None, "path of a GGUF file", key="model", shown="embedded Gemma-3-270M"
    )
    n_ctx: int = setting(4096, "context size in tokens", bounds=(256, 1 << 20))
    n_threads: int = setting(
        0,
        "CPU threads (auto: the performance cores on Apple silicon, else the physical-ish "
        "cores, at most 8)",
        bounds=(0, 512),
        shown="0 (auto)",
    )
    n_gpu_layers: int = setting(0, "layers offloaded to Metal/CUDA (-1: all)", bounds=(-1, 100_000))
    experts_used: int = setting(
        0,
        "MoE models: active experts per token (`<arch>.expert_used_count` override at load)",
        bounds=(0, 1024),
        shown="0 (model's own)",
    )
    cpu_moe: int = setting(
        0,
        "GPU builds, MoE models: keep the expert tensors of the first N layers in CPU memory "
        "(-1: all), like llama.cpp's `--n-cpu-moe`",
        bounds=(-1, 10_000),
    )
    cpu_repack: str | None = setting(
        None,
        "llama.cpp's repacked CPU weight layouts: `auto` (on, except on AMX CPUs, where "
        "llama.cpp's AMX kernels crash), `on`, `off`; a layout that crashes in the trial load "
        "(a child process, before the model runs in the server) is switched off and reported",
        shown="auto",
        choices=REPACK_CHOICES,
    )
    warm_cache_mb: int = setting(
        256,
        "RAM for the prompts of spots you left (KV states parked when another spot takes their "
        "place, brought back in milliseconds when you return; least recently used out first; "
        "0: off)",
        bounds=(0, 1 << 16),
    )

    def load_options(self) -> LoadOptions:
        """The engine's load parameters (everything here but the path)."""
        return LoadOptions(
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_gpu_layers=self.n_gpu_layers,
            experts_used=self.experts_used,
            cpu_moe=self.cpu_moe,
            cpu_repack=self.cpu_repack or "auto",
            warm_cache_mb=self.warm_cache_mb,
        )


@dataclass(frozen=True, kw_only=True)
class EngineSettings:
    """A shared engine instead of the in-process model: changing these reconnects to the
    engine, when one is set; they never reload the in-process model."""

    engine_url: str | None = setting(
        None,
        "a shared inference engine's http(s) URL, e.g. http://gpu-box:8080 (empty: the model "
        "runs in this process, the model settings apply)",
        shown="empty (in-process)",
    )
    engine_kind: str | None = setting(
        None,
        "the engine's API: `llama-server` (its /completion: token prompts, slot per user) or "
        "`openai` (any OpenAI-compatible /v1/completions: vLLM, SGLang, llama-server, Ollama)",
        shown="llama-server",
        choices=KINDS,
    )
    engine_model: str | None = setting(
        None,
        "engineKind openai: the model name sent in requests",
        shown="empty (the first of /v1/models)",
    )
    engine_fim_template: str | None = setting(
        None,
        "engineKind openai: the fill-in-the-middle prompt, a preset (qwen, deepseek, "
        "starcoder2, codellama, codestral, none) or a template with {prefix} and {suffix}",
        shown="empty (a preset picked from the model's name, else none)",
    )
    engine_api_key_env: str | None = setting(
        None,
        "the name of the environment variable holding the engine's API key (sent as a Bearer "
        "token; the key itself is never read from settings, logged or shown)",
        shown="empty (no key)",
    )
    engine_ca_file: str | None = setting(
        None,
        "https engines: a PEM file of the CA certificates to trust instead of the system "
        "trust store (a private CA, a self-signed proxy)",
        shown="empty (the system trust store)",
    )
    engine_infill: bool = setting(
        False,
        "engineKind llama-server, FIM models: send fill-in-the-middle prompts to /infill (the "
        "server assembles them with the model's FIM tokens, context as `input_extra`) instead "
        "of our own token list to /completion",
    )
    engine_fallback: bool = setting(
        False,
        "while the engine is unreachable, answer from the in-process model (`model`, loaded "
        "on the first fault and kept loaded); back to the engine once it answers",
    )
    engine_timeout_ms: int = setting(
        10_000,
        "the longest any call to the engine may take (connect, tokenize, a whole answer); "
        "past it the request is answered empty and the status says the engine is unreachable",
        bounds=(100, 600_000),
    )

    def remote_options(self, client: str = "") -> RemoteOptions | None:
        """The remote engine's settings (None: in-process); `client` picks its slot."""
        if not self.engine_url:
            return None
        return RemoteOptions(
            url=self.engine_url,
            kind=self.engine_kind or "llama-server",
            api_key_env=self.engine_api_key_env,
            timeout_ms=self.engine_timeout_ms,
            client=client,
            model=self.engine_model,
            fim_template=self.engine_fim_template,
            fallback=self.engine_fallback,
            ca_file=self.engine_ca_file,
            infill=self.engine_infill,
        )


@dataclass(frozen=True, kw_only=True)
class CompletionSettings:
    """What the user gets: suggestions, their context, shaping and speed features."""

    enable: bool = setting(True, "turn suggestions off/on")
    disabled_languages: tuple[str, ...] = setting((), "languageIds to skip")
    max_tokens: int = setting(64, "most tokens generated per suggestion", bounds=(1, 4096))
    temperature: float = setting(0.0, "0 = greedy (deterministic)", bounds=(0.0, 5.0))
    use_fim: bool = setting(True, "use FIM prompts when the model has FIM tokens")
    context: bool = setting(
        True, "workspace context: imports, definitions from other files, recent code"
    )
    shaping: bool = setting(True, "syntax-aware line/block decision, stopping and post-processing")
    workspace_index: bool = setting(True, "index the workspace folders (symbols for the context)")
    latency_budget_ms: int = setting(
        1000,
        "Automatic requests: answer deadline; decoding stops once some text is out and the "
        "next token (measured speed) would overrun it. While you type in a burst it shrinks "
        "to 75% of your keystroke interval, so the answer lands before the next key (0: off)",
        bounds=(0, 600_000),
    )
    speculative: bool = setting(
        True,
        "prompt-lookup drafts verified in batches "
        "(greedy only; the same output up to float near-ties)",
    )
    typeahead: bool = setting(
        True, "answer from a shown suggestion the user is typing along (no model work)"
    )
    prefetch: bool = setting(
        True,
        "when idle (after a pause in a typing burst), compute the rest of a cut-short "
        "suggestion, or the suggestion after a finished one",
    )
    prefill_at_rest: bool = setting(
        True,
        "prefill the prompt at the spot the cursor rests on (`smallcode/didMoveCursor`, "
        "`textDocument/didFocus`) before the first keystroke there; any keystroke preempts it",
    )
    invoked_items: int = setting(
        3, "most alternatives for an explicitly invoked request", bounds=(1, 10)
    )
    next_edit: bool = setting(
        True,
        "next-edit suggestions (`textDocument/copilotInlineEdit`): after an edit, the same "
        "change at its next place in the file (repeated-edit propagation, no model)",
    )
    next_edit_model: str | None = setting(
        None,
        "GGUF of a next-edit model (Sweep next-edit, Zed's Zeta) that also predicts edits "
        "that do not repeat (empty: propagation only)",
        shown="none",
    )
    next_edit_format: str | None = setting(
        None,
        "prompt format of `nextEditModel` (empty: from its file name)",
        shown="from the file name",
        choices=("sweep", "zeta"),  # one file each in nextedit/formats/
    )
    next_edit_debounce_ms: int = setting(
        150,
        "clients: pause after an edit before asking for the next edit",
        bounds=(0, 10_000),
    )
    security_lint: bool = setting(
        False,
        "drop suggestions that add well-known insecure patterns (shell=True with "
        "interpolation, SQL by concatenation, eval of input, ...)",
    )
    debug: bool = setting(
        False, "send a `smallcode/completionStats` notification after each completion"
    )


@dataclass(frozen=True, kw_only=True)
class BenchmarkSwitches:
    """A/B switches for benchmarks: the defaults are what users want; off measures the gain."""

    cache_reuse: bool = setting(True, "keep the KV cache between requests (longest common prefix)")
    cache_shift: bool = setting(
        True, "shift cached chunks over deleted text instead of re-decoding them"
    )


@dataclass(frozen=True, kw_only=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    bench: BenchmarkSwitches = field(default_factory=BenchmarkSwitches)

    def reload_needed(self, other: Settings) -> bool:
        """True when `other` needs a different model or engine than self: any model setting,
        and engine settings while an engine URL is set before or after (without one, they
        change nothing that runs)."""
        if self.model != other.model:
            return True
        in_process = not self.engine.engine_url and not other.engine.engine_url
        return self.engine != other.engine and not in_process


@dataclass(frozen=True)
class SettingSpec:
    """One setting as clients see it: flat camelCase key, JSON kind, default, bounds."""

    group: Group
    name: str  # field name in its group's dataclass
    key: str  # external camelCase key
    kind: Kind
    default: Any
    description: str
    bounds: tuple[float, float] | None
    shown: str  # README's default column
    choices: tuple[str, ...] | None = None  # the values a string setting accepts

    def value_in(self, settings: Settings) -> Any:
        return getattr(getattr(settings, self.group), self.name)


GROUPS: dict[Group, type] = {
    "model": ModelSettings,
    "engine": EngineSettings,
    "completion": CompletionSettings,
    "bench": BenchmarkSwitches,
}

_KINDS: dict[Any, Kind] = {
    str | None: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    tuple[str, ...]: "array",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[]" if not value else str(list(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _build_spec() -> tuple[SettingSpec, ...]:
    specs = []
    for group, cls in GROUPS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            meta = f.metadata
            specs.append(
                SettingSpec(
                    group=group,
                    name=f.name,
                    key=meta["key"] or _camel(f.name),
                    kind=_KINDS[hints[f.name]],
                    default=f.default,
                    description=meta["description"],
                    bounds=meta["bounds"],
                    shown=meta["shown"] or _shown(f.default),
                    choices=meta["choices"],
                )
            )
    return tuple(specs)


SETTINGS_SPEC: tuple[SettingSpec, ...] = _build_spec()
_BY_KEY = {spec.key: spec for spec in SETTINGS_SPEC}


def setting_spec(key: str) -> SettingSpec:
    """The spec of the setting with external key `key` (e.g. "maxTokens")."""
    return _BY_KEY[key]


def _coerce(spec: SettingSpec, value: Any) -> Any:
    if spec.kind == "boolean":
        if isinstance(value, bool):
            return value
        raise TypeError("expected true or false")
    if spec.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
    elif spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        value = float(value)
    elif spec.kind == "array":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError("expected a list of strings")
        return tuple(value)
    elif spec.kind == "string":
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise TypeError("expected a string")
        if spec.choices is not None and value not in spec.choices:
            raise ValueError(f"expected one of {', '.join(spec.choices)}")
        return value
    low, high = spec.bounds or (float("-inf"), float("inf"))
    if not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}")
    return value


def merge_settings(base: Settings, payload: Any) -> tuple[Settings, list[str]]:
    """`base` updated with the camelCase keys of `payload`; plus messages about rejected values."""
    if payload is None:
        return base, []
    if not isinstance(payload, dict):
        return base, [f"smallcode settings must be an object, got {type(payload).__name__}"]
    changes: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
    problems: list[str] = []
    for spec in SETTINGS_SPEC:
        if spec.key not in payload:
            continue
        try:
            changes[spec.group][spec.name] = _coerce(spec, payload[spec.key])
        except (TypeError, ValueError) as exc:
            problems.append(f"setting smallcode.{spec.key}={payload[spec.key]!r} ignored: {exc}")
    groups = {
        group: dataclasses.replace(getattr(base, group), **fields)
        for group, fields in changes.items()
    }
    return dataclasses.replace(base, **groups), problems


DEFAULT_SETTINGS = Settings()
