"""What every engine and the settings know of a model, as plain data (no llama.cpp, no HTTP).

The in-process engine (local/) fills these from llama.cpp, the remote engines (remote/) from
what the server reports; the settings build `LoadOptions` and `RemoteOptions` from their groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from smallcode_lsp.engine.cpu import RuntimeInfo


class ModelLoadError(Exception):
    """The model file cannot be used; the message says why, for the user."""


@dataclass(frozen=True)
class FimTokens:
    """Fill-in-the-middle special token ids from the GGUF vocab (None when absent)."""

    pre: int | None
    suf: int | None
    mid: int | None
    repo: int | None = None  # <|repo_name|>: repo-level prompt format (Qwen2.5/3-Coder)
    file_sep: int | None = None  # <|file_sep|>

    @property
    def available(self) -> bool:
        return None not in (self.pre, self.suf, self.mid)


NO_FIM = FimTokens(None, None, None)  # a model (or an API) without fill-in-the-middle


@dataclass(frozen=True)
class ModelInfo:
    path: str
    architecture: str
    name: str
    description: str
    file_size: int
    n_params: int
    n_ctx_train: int
    n_vocab: int
    has_fim: bool
    expert_count: int
    expert_used_count: int
    runtime: RuntimeInfo | None = None  # in-process models: CPU, build, weight buffers

    @property
    def is_moe(self) -> bool:
        return self.expert_count > 1

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "architecture": self.architecture,
            "name": self.name,
            "description": self.description,
            "fileSize": self.file_size,
            "nParams": self.n_params,
            "contextLength": self.n_ctx_train,
            "vocabSize": self.n_vocab,
            "fim": self.has_fim,
            "moe": self.is_moe,
            "expertCount": self.expert_count,
            "expertUsedCount": self.expert_used_count,
            **({"runtime": self.runtime.as_dict()} if self.runtime else {}),
        }


@dataclass(frozen=True)
class LoadOptions:
    n_ctx: int = 4096
    n_threads: int = 0  # 0: chosen from the machine
    n_gpu_layers: int = 0  # -1: all layers (Metal / CUDA builds)
    n_batch: int = 512
    experts_used: int = 0  # 0: the model's own top-k; else override <arch>.expert_used_count
    cpu_moe: int = 0  # GPU builds: expert tensors of the first N layers stay on the CPU (-1: all)
    cpu_repack: str = "auto"  # llama.cpp's repacked weight buffers: auto (per CPU), on, off
    warm_cache_mb: int = 256  # RAM for the parked prompts of spots left (parking.py; 0: off)


KINDS = ("llama-server", "openai")  # the remote engine APIs (engineKind)


@dataclass(frozen=True)
class RemoteOptions:
    """How to reach the engine. The key itself is read from the environment at connect."""

    url: str
    kind: str = "llama-server"
    api_key_env: str | None = None  # the name of the variable holding the key
    timeout_ms: int = 10_000
    client: str = ""  # user and workspace: picks a stable llama-server slot
    model: str | None = None  # openai: the model to ask for (None: the first served)
    fim_template: str | None = None  # openai: a preset, a custom template, or None: by name
    fallback: bool = False  # while the engine is down, the in-process model answers
    ca_file: str | None = None  # https: the CA bundle to trust instead of the system's
    infill: bool = False  # llama-server, FIM models: prompts through /infill
