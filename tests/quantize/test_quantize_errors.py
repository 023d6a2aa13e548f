"""Bad input: each case is one clear `error:` line naming the problem, a non-zero exit status,
and nothing left at the output path (no partial file either)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from quantize.cli import main


@pytest.fixture
def ckpt(checkpoint: Callable[..., Path], tmp_path: Path) -> Path:
    """A private, mutable copy of the tiny sharded qwen3moe checkpoint."""
    dst = tmp_path / "ckpt"
    shutil.copytree(checkpoint("qwen3moe", layers=1), dst)
    return dst


def _fails(ckpt: Path, capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    out = ckpt.parent / "out.gguf"
    rc = main(["convert", str(ckpt), "-o", str(out), "--type", "F16", "--no-progress"])
    err = capsys.readouterr().err
    assert rc != 0
    assert err.startswith("error: "), err
    for n in needles:
        assert n in err, err
    assert sorted(p.name for p in ckpt.parent.iterdir()) == ["ckpt"], "output left behind"


def test_missing_config(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ckpt / "config.json").unlink()
    _fails(ckpt, capsys, "missing config.json")


def test_unknown_architecture(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["architectures"] = ["FancyNewMoeForCausalLM"]
    (ckpt / "config.json").write_text(json.dumps(cfg))
    _fails(ckpt, capsys, "unknown architecture", "FancyNewMoeForCausalLM", "Qwen3MoeForCausalLM")


def _shard_out(ckpt: Path, name: str, extra: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(ckpt / "model.safetensors"))
    tensors.update(extra)
    tensors = {k: v for k, v in tensors.items() if k != name}
    save_file(tensors, str(ckpt / "model.safetensors"))


def test_missing_shard(checkpoint: Callable[..., Path], tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    dst = tmp_path / "ckpt"
    shutil.copytree(checkpoint("qwen3moe", layers=1, shards=2), dst)
    (dst / "model-00002-of-00002.safetensors").unlink()
    _fails(dst, capsys, "missing shard", "model-00002-of-00002.safetensors")


def test_truncated_safetensors(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = ckpt / "model.safetensors"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) - 1000])
    _fails(ckpt, capsys, "truncated", "model.safetensors")


def test_wrong_dtype(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shard_out(ckpt, "", {"model.layers.0.mlp.gate.weight": np.zeros((4, 64), np.int64)})
    _fails(ckpt, capsys, "model.layers.0.mlp.gate.weight", "I64")


def test_unmapped_tensor(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shard_out(ckpt, "", {"model.layers.0.mlp.mystery.weight": np.zeros((4, 4), np.float32)})
    _fails(ckpt, capsys, "unmapped", "model.layers.0.mlp.mystery.weight")


def test_missing_expert(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _shard_out(ckpt, "model.layers.0.mlp.experts.3.up_proj.weight", {})
    _fails(ckpt, capsys, "layer 0", "FFN_UP_EXP", "missing [3]")


def test_leftover_expert(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = np.zeros((32, 64), np.float32)
    _shard_out(ckpt, "", {"model.layers.0.mlp.experts.4.up_proj.weight": extra})
    _fails(ckpt, capsys, "leftover", "model.layers.0.mlp.experts.4.up_proj.weight")


def test_existing_output_needs_force(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = ckpt.parent / "out.gguf"
    out.write_bytes(b"keep me")
    assert main(["convert", str(ckpt), "-o", str(out), "--no-progress"]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["convert", str(ckpt), "-o", str(out), "--no-progress", "--force"]) == 0
    assert out.read_bytes()[:4] == b"GGUF"


def test_interrupted_write_disk_full(ckpt: Path) -> None:
    # RLIMIT_FSIZE makes the kernel fail writes past 64 KiB (EFBIG), as a full disk would
    # (ENOSPC) mid-file; SIGXFSZ is ignored so the write error reaches Python.
    out = ckpt.parent / "out.gguf"
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536));"
        "from quantize.cli import main;"
        f"sys.exit(main(['convert', {str(ckpt)!r}, '-o', {str(out)!r}, '--no-progress']))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert "error: write failed" in r.stderr and str(out) in r.stderr, r.stderr
    assert sorted(p.name for p in ckpt.parent.iterdir()) == ["ckpt"]


def test_unknown_pre_tokenizer_then_override(
    ckpt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tok = json.loads((ckpt / "tokenizer.json").read_text())
    tok["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = r"\p{L}+|\s+"
    (ckpt / "tokenizer.json").write_text(json.dumps(tok))
    _fails(ckpt, capsys, "pre-tokenizer", r"\p{L}+|\s+")
    out = ckpt.parent / "out.gguf"
    assert main(["convert", str(ckpt), "-o", str(out), "--no-progress", "--pre", "qwen2"]) == 0
