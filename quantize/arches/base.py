"""The fixed interface every architecture module implements, plus the shared planning logic.

An Arch turns config.json into GGUF metadata and the checkpoint's tensor names into a plan: an
ordered list of GGUF tensors, each with a loader that produces its float32 data on demand.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gguf import GGUFWriter
from gguf.constants import MODEL_TENSOR as T

from quantize.checkpoint import Checkpoint, CheckpointError, TensorRef
from quantize.gguf_names import EXPERT_KINDS, FUSED_GATE_UP, gguf_name

_LAYER = re.compile(r"^(.*\.layers)\.(\d+)\.(.*)$")
_EXPERT = re.compile(r"\.experts\.(\d+)\.")


class ConvertError(CheckpointError):
    """The checkpoint does not match what the architecture expects."""


@dataclass
class Planned:
    """One GGUF tensor to write; shape is numpy order (GGUF ne reversed)."""

    name: str
    kind: T
    bid: int | None
    shape: tuple[int, ...]
    load: Callable[[], np.ndarray]


def _order(p: Planned) -> tuple[int, str]:
    # token_embd first, then blocks in order, then output_norm/output, like llama.cpp's converter.
    if p.bid is not None:
        return (p.bid + 1, p.name)
    return (0, p.name) if p.kind == T.TOKEN_EMBD else (1 << 30, p.name)


class Arch:
    """Base class: subclasses set the class attributes and override the hooks they need."""

    gguf_arch: ClassVar[str]
    tables: ClassVar[tuple[Mapping[str, T], ...]]
    fused: ClassVar[Mapping[str, tuple[T, T]]] = FUSED_GATE_UP
    # HF tensors with no GGUF counterpart (recomputed by llama.cpp).
    ignore: ClassVar[tuple[str, ...]] = ("rotary_emb.inv_freq",)
    # llama.cpp loads output.weight without falling back to token_embd for this arch.
    output_required: ClassVar[bool] = False

    def __init__(self, config: dict[str, Any]) -> None:
        self.cfg = config
        lookup: dict[str, T] = {}
        for table in self.tables:
            lookup.update(table)
        self._lookup = lookup

    # ---- config helpers -------------------------------------------------------------------
    def get(self, *keys: str, default: Any = None) -> Any:
        """First present config key, else default."""
        for k in keys:
            if self.cfg.get(k) is not None:
                return self.cfg[k]
        return default

    def need(self, *keys: str) -> Any:
        """First present config key, else a ConvertError naming it."""
        v = self.get(*keys)
        if v is None:
            raise ConvertError(f"config.json lacks {keys[0]!r} (needed for {self.gguf_arch})")
        return v

    @property
    def n_layer(self) -> int:
        return int(self.need("num_hidden_layers"))

    @property
    def is_moe(self) -> bool:
        """False for dense checkpoints (the bonus llama/qwen3 modules)."""
        return True

    @property
    def n_expert(self) -> int:
        return int(self.need("num_experts", "num_local_experts", "n_routed_experts"))

    @property
    def rope_theta(self) -> float | None:
        # transformers >= 5 moved rope_theta into rope_parameters.
        rp = self.cfg.get("rope_parameters") or {}
        theta = rp.get("rope_theta", self.cfg.get("rope_theta"))
        return float(theta) if theta is not None else None

    # ---- metadata -------------------------------------------------------------------------
    def write_metadata(self, w: GGUFWriter) -> None:
        """Keys every llama-style MoE needs; subclasses add theirs in extra_metadata."""
        w.add_block_count(self.n_layer)
        w.add_context_length(int(self.get("max_position_embeddings", default=4096)))
        w.add_embedding_length(int(self.need("hidden_size")))
        if (n_ff := self.get("intermediate_size")) is not None:
            w.add_feed_forward_length(int(n_ff))
        n_head = int(self.need("num_attention_heads"))
        w.add_head_count(n_head)
        w.add_head_count_kv(self.n_head_kv())
        if (theta := self.rope_theta) is not None:
            w.add_rope_freq_base(theta)
        w.add_layer_norm_rms_eps(float(self.get("rms_norm_eps", default=1e-6)))
        if self.is_moe:
            w.add_expert_count(self.n_expert)
            w.add_expert_used_count(int(self.need("num_experts_per_tok")))
        if (head_dim := self.head_dim()) is not None:
            w.add_key_length(head_dim)
            w.add_value_length(head_dim)
        self.extra_metadata(w)

    def n_head_kv(self) -> int:
        """KV heads as llama.cpp sees them."""
        return int(self.get("num_key_value_heads", "num_attention_heads"))

    def head_dim(self) -> int | None:
        """Explicit head size, when the config gives one llama.cpp should use."""
        v = self.get("head_dim")
        return int(v) if v is not None else None

    def extra_metadata(self, w: GGUFWriter) -> None:
        """Architecture-specific keys."""

    # ---- tensors --------------------------------------------------------------------------
    def transform(self, kind: T, hf_name: str, data: np.ndarray) -> np.ndarray:
        """Per-tensor rewrite (e.g. Q/K permutation); identity by default."""
        return data

    def special(self, template: str, bid: int | None, ref: TensorRef) -> list[Planned] | None:
        """Hook for tensors needing a split or a rename; None means "not special"."""
        return None

    def plan(self, ckpt: Checkpoint) -> list[Planned]:
        """Map every checkpoint tensor; raise ConvertError naming unmapped or leftover ones."""
        out: list[Planned] = []
        experts: dict[tuple[int, T, str], dict[int, TensorRef]] = defaultdict(dict)
        unmapped: list[str] = []
        for name, ref in ckpt.tensors.items():
            if any(name.endswith(s) for s in self.ignore):
                continue
            bid: int | None = None
            template = name
            if m := _LAYER.match(name):
                bid = int(m.group(2))
                template = f"{m.group(1)}.{{bid}}.{m.group(3)}"
            if (sp := self.special(template, bid, ref)) is not None:
                out.extend(sp)
                continue
            xid: int | None = None
            if xm := _EXPERT.search(template):
                xid = int(xm.group(1))
                template = template[: xm.start()] + ".experts.{xid}." + template[xm.end() :]
            suffix = ".bias" if name.endswith(".bias") else ".weight"
            if template in self.fused:
                out.extend(self._split_fused(self.fused[template], bid, ref, name))
            elif (kind := self._lookup.get(template)) is None:
                unmapped.append(name)
            elif xid is not None:
                experts[(bid if bid is not None else -1, kind, suffix)][xid] = ref
            else:
                out.append(self._single(kind, bid, ref, suffix))
        if unmapped:
            raise ConvertError(f"{self.gguf_arch}: unmapped tensors: {sorted(unmapped)[:10]}")
        for (bid, kind, suffix), by_xid in sorted(experts.items(), key=lambda kv: kv[0][:1]):
            out.append(self._stack(kind, bid, by_xid, suffix))
        kinds = {p.kind: p for p in out}
        if self.output_required and T.OUTPUT not in kinds and T.TOKEN_EMBD in kinds:
            # Tied embeddings: write the embedding matrix a second time as the output head.
            e = kinds[T.TOKEN_EMBD]
            out.append(Planned(gguf_name(T.OUTPUT, None), T.OUTPUT, None, e.shape, e.load))
        return sorted(out, key=_order)

    def _single(self, kind: T, bid: int | None, ref: TensorRef, suffix: str) -> Planned:
        def load() -> np.ndarray:
            return self.transform(kind, ref.name, ref.load_f32())

        return Planned(gguf_name(kind, bid, suffix), kind, bid, ref.shape, load)

    def _stack(self, kind: T, bid: int, by_xid: dict[int, TensorRef], suffix: str) -> Planned:
        n = self.n_expert
        if kind not in EXPERT_KINDS:
            raise ConvertError(f"per-expert tensors mapped to non-expert kind {kind.name}")
        missing = sorted(set(range(n)) - set(by_xid))
        extra = sorted(set(by_xid) - set(range(n)))
        if missing or extra:
            left = [r.name for x, r in by_xid.items() if x in extra][:5]
            raise ConvertError(
                f"layer {bid} {kind.name}: experts missing {missing[:10]}, leftover {left} "
                f"(config says {n} experts)"
            )
        refs = [by_xid[x] for x in range(n)]
        shape = (n, *refs[0].shape)
        if any(r.shape != refs[0].shape for r in refs):
            raise ConvertError(f"layer {bid} {kind.name}: experts have different shapes")

        def load() -> np.ndarray:
            # Fill a preallocated array so peak memory is one stacked tensor, not two.
            data = np.empty(shape, dtype=np.float32)
            for x, r in enumerate(refs):
                data[x] = self.transform(kind, r.name, r.load_f32())
            return data

        return Planned(gguf_name(kind, bid, suffix), kind, bid, shape, load)

    def _split_fused(
        self, kinds: tuple[T, T], bid: int | None, ref: TensorRef, name: str
    ) -> list[Planned]:
        # (n_expert, 2*n_ff, n_embd): first half gate, second half up (transformers, granite).
        if len(ref.shape) < 2 or ref.shape[-2] % 2:
            raise ConvertError(f"{name}: fused gate|up tensor has odd shape {ref.shape}")
        half = ref.shape[-2] // 2
        shape = (*ref.shape[:-2], half, ref.shape[-1])
        out = []
        for i, kind in enumerate(kinds):

            def load(i: int = i, kind: T = kind) -> np.ndarray:
                data = ref.load_f32()[..., i * half : (i + 1) * half, :]
                return self.transform(kind, name, np.ascontiguousarray(data))

            out.append(Planned(gguf_name(kind, bid), kind, bid, shape, load))
        return out
