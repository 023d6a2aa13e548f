"""Checkpoint layouts: fused 3-D experts (transformers >= 5 save_pretrained) convert to the same
GGUF tensors as the per-expert layout; BF16 checkpoints convert exactly; sharded ones too."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader

from quantize.convert import convert
from quantize.tiny import build_checkpoint
from quantize.verify import SAMPLES, compare, hf_logits, llama_logits, open_llama


def _tensors(path: Path) -> dict[str, np.ndarray]:
    return {t.name: np.array(t.data) for t in GGUFReader(str(path)).tensors}


@pytest.mark.parametrize("arch", ["qwen3moe", "mixtral", "granitemoe"])
def test_fused_layout_equals_per_expert(arch: str, tmp_path: Path) -> None:
    model = build_checkpoint(tmp_path / "per-expert", arch, layers=1)
    fused = tmp_path / "fused"
    model.save_pretrained(fused)  # transformers 5: experts.gate_up_proj / experts.down_proj
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tmp_path / "per-expert" / f, fused / f)
    a = convert(tmp_path / "per-expert", tmp_path / "a.gguf", "F32", progress=False).path
    b = convert(fused, tmp_path / "b.gguf", "F32", progress=False).path
    ta, tb = _tensors(a), _tensors(b)
    assert sorted(ta) == sorted(tb)
    for name in ta:
        assert np.array_equal(ta[name], tb[name]), name


def test_bf16_sharded_checkpoint_exact(tmp_path: Path) -> None:
    ckpt = tmp_path / "bf16"
    build_checkpoint(ckpt, "qwen3moe", layers=1, shards=3, dtype="bfloat16")
    assert len(list(ckpt.glob("*.safetensors"))) == 3
    out = convert(ckpt, tmp_path / "out.gguf", "F32", progress=False).path
    llm = open_llama(out)
    seqs = [llm.tokenize(s.encode(), add_bos=False) for s in SAMPLES[:2]]
    got = llama_logits(llm, seqs)
    llm.close()
    # transformers widens the same bf16 weights to f32: BF16 -> F32 is exact on both sides.
    r = compare(hf_logits(ckpt, seqs), got)
    assert r.max_abs < 5e-3 and r.top1 == 1.0, r.line()


def test_bf16_source_quantizes_via_bf16_base(tmp_path: Path) -> None:
    ckpt = tmp_path / "bf16"
    build_checkpoint(ckpt, "mixtral", layers=1, dtype="bfloat16")
    out = convert(ckpt, tmp_path / "q8.gguf", "Q8_0", progress=False).path
    field = GGUFReader(str(out)).get_field("general.file_type")
    assert field is not None and field.contents() == 7  # LLAMA_FTYPE_MOSTLY_Q8_0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bf16", "q8.gguf"]  # no temp left


@pytest.mark.parametrize("arch", ["qwen2moe", "qwen3moe"])
def test_tied_embeddings(arch: str, tmp_path: Path) -> None:
    ckpt = tmp_path / "tied"
    build_checkpoint(ckpt, arch, layers=1, tied=True)
    out = convert(ckpt, tmp_path / "out.gguf", "F32", progress=False).path
    llm = open_llama(out)  # qwen2moe has no token_embd fallback: output.weight must exist
    seqs = [llm.tokenize(s.encode(), add_bos=False) for s in SAMPLES[:2]]
    r = compare(hf_logits(ckpt, seqs), llama_logits(llm, seqs))
    llm.close()
    assert r.max_abs < 5e-3 and r.top1 == 1.0, r.line()


@pytest.mark.parametrize("arch", ["llama", "qwen3"])
def test_dense_bonus(arch: str, tmp_path: Path) -> None:
    ckpt = tmp_path / arch
    build_checkpoint(ckpt, arch)
    out = convert(ckpt, tmp_path / "out.gguf", "F32", progress=False).path
    llm = open_llama(out)
    seqs = [llm.tokenize(s.encode(), add_bos=False) for s in SAMPLES[:2]]
    r = compare(hf_logits(ckpt, seqs), llama_logits(llm, seqs))
    llm.close()
    assert r.max_abs < 5e-3 and r.top1 == 1.0, r.line()
