"""Run the same token sequences through llama.cpp and a reference (transformers or another GGUF)
and compare the logits: max/mean abs error, top-1 agreement, KL(reference || candidate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Code snippets tokenised by the model's own vocabulary to make the default test sequences.
SAMPLES: tuple[str, ...] = (
    "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n",
    "for (let i = 0; i < items.length; i++) {\n  total += items[i].price;\n}\n",
    "import os\n\nclass Config:\n    path = os.environ.get('HOME')\n",
    "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n",
)


@dataclass(frozen=True)
class Report:
    """Logit agreement over all positions of all sequences."""

    max_abs: float
    mean_abs: float
    top1: float
    kl_mean: float
    kl_max: float
    positions: int

    def line(self) -> str:
        """One human-readable line."""
        return (
            f"positions={self.positions} max_abs={self.max_abs:.3g} mean_abs={self.mean_abs:.3g} "
            f"top1={self.top1:.1%} kl_mean={self.kl_mean:.3g} kl_max={self.kl_max:.3g}"
        )


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def compare(ref: Sequence[np.ndarray], cand: Sequence[np.ndarray]) -> Report:
    """Compare per-sequence logit matrices (positions x vocab)."""
    r = np.concatenate(ref).astype(np.float64)
    c = np.concatenate(cand).astype(np.float64)
    if r.shape != c.shape:
        raise ValueError(f"logit shapes differ: {r.shape} vs {c.shape}")
    diff = np.abs(r - c)
    lr, lc = _log_softmax(r), _log_softmax(c)
    kl = (np.exp(lr) * (lr - lc)).sum(axis=-1)
    return Report(
        max_abs=float(diff.max()),
        mean_abs=float(diff.mean()),
        top1=float((r.argmax(-1) == c.argmax(-1)).mean()),
        kl_mean=float(kl.mean()),
        kl_max=float(kl.max()),
        positions=int(r.shape[0]),
    )


def open_llama(path: Path, n_ctx: int = 256, **kw: Any) -> Any:
    """A llama_cpp.Llama with all logits kept (needed to compare every position)."""
    from llama_cpp import Llama

    return Llama(
        model_path=str(path), n_ctx=n_ctx, logits_all=True, verbose=False, n_threads=2,
        n_batch=n_ctx, **kw,
    )


def default_sequences(llm: Any) -> list[list[int]]:
    """SAMPLES tokenised by llama.cpp's tokenizer for this model."""
    return [llm.tokenize(s.encode(), add_bos=False, special=False) for s in SAMPLES]


def llama_logits(llm: Any, seqs: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """Logits for every position of every sequence, evaluated from an empty context."""
    out = []
    for seq in seqs:
        llm.reset()
        llm.eval(list(seq))
        out.append(np.array(llm.scores[: len(seq)], dtype=np.float32))
    return out


def hf_logits(ckpt: Path, seqs: Sequence[Sequence[int]], **config: Any) -> list[np.ndarray]:
    """Reference logits from transformers (float32, CPU); `config` overrides config.json."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # keep verify's stdout to the report
    model = AutoModelForCausalLM.from_pretrained(str(ckpt), dtype=torch.float32, **config)
    model.eval()
    out = []
    with torch.no_grad():
        for seq in seqs:
            logits = model(torch.tensor([list(seq)])).logits[0]
            out.append(logits.float().numpy())
    return out


def verify(
    gguf: Path, reference: Path | None = None, against: Path | None = None,
    seqs: Sequence[Sequence[int]] | None = None,
) -> Report:
    """Compare `gguf` with a transformers checkpoint or with another GGUF (the reference)."""
    llm = open_llama(gguf)
    seqs = list(seqs) if seqs is not None else default_sequences(llm)
    cand = llama_logits(llm, seqs)
    llm.close()
    if reference is not None:
        ref = hf_logits(reference, seqs)
    elif against is not None:
        other = open_llama(against)
        ref = llama_logits(other, seqs)
        other.close()
    else:
        raise ValueError("need a reference checkpoint or another GGUF")
    # The checkpoint may pad the vocab differently from the GGUF; compare the common columns.
    n = min(ref[0].shape[-1], cand[0].shape[-1])
    return compare([r[:, :n] for r in ref], [c[:, :n] for c in cand])
