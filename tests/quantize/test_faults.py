"""Quantizer faults (issue 6): a conversion killed mid-write leaves nothing that could be taken
for output and a rerun succeeds; malformed safetensors headers are rejected with a clear error
and without allocating what they claim.

Every conversion here runs the real CLI in a child process (`python -m quantize.cli`), so a
SIGKILL, a crash or a MemoryError is seen from outside, as a user would see it."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gguf import GGUFReader

from quantize.tiny import write_random_qwen3moe

GiB = 1 << 30
AS_LIMIT = 2 * GiB  # address-space cap for the child: reading a claimed 3 GiB header must fail


def _convert_cmd(ckpt: Path, out: Path, type_name: str = "F16") -> list[str]:
    return [sys.executable, "-m", "quantize.cli", "convert", str(ckpt), "-o", str(out),
            "--type", type_name, "--no-progress"]


# --------------------------------------------------------------------------- kill mid-write


@pytest.fixture(scope="module")
def big_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~30 MiB F16 checkpoint (numpy only, no torch): its conversion takes a moment."""
    root = tmp_path_factory.mktemp("big-ckpt")
    write_random_qwen3moe(root, 512, 384, 8, 3)
    return root


def _kill_mid_write(ckpt: Path, out: Path, type_name: str, watch: Path) -> int:
    """Start the CLI; SIGKILL it once `watch` (a temp file) holds >= 1 MiB; return its size."""
    proc = subprocess.Popen(_convert_cmd(ckpt, out, type_name),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        size = 0
        while time.monotonic() < deadline and proc.poll() is None:
            size = watch.stat().st_size if watch.exists() else 0
            if size >= 1 << 20:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # It really was killed while writing (not finished, not failed on its own).
    assert rc == -signal.SIGKILL, f"conversion ended with {rc} before it could be killed"
    return size


@pytest.mark.parametrize("type_name", ["F16", "Q4_K_M"])
def test_kill_mid_write_then_rerun(big_ckpt: Path, tmp_path: Path, type_name: str) -> None:
    out = tmp_path / "model.gguf"
    tmp = tmp_path / ".model.gguf.partial"
    # K-quants write a float base first, then llama.cpp quantizes it: kill during the base.
    watch = tmp if type_name == "F16" else tmp_path / ".model.gguf.base.partial"
    killed_at = _kill_mid_write(big_ckpt, out, type_name, watch)

    left = sorted(p.name for p in tmp_path.iterdir())
    assert not out.exists(), "a killed conversion left a file at the output path"
    # SIGKILL cannot be caught, so a temp file may stay: it must be hidden and marked partial,
    # never the output name and never something that a glob for *.gguf would pick up.
    assert left == [watch.name], left
    assert all(n.startswith(".") and n.endswith(".partial") for n in left)
    assert list(tmp_path.glob("*.gguf")) == []
    assert watch.stat().st_size >= killed_at > 0

    # Rerun: no --force needed (nothing at the output), the stale temp file is overwritten
    # and removed, and the result is complete.
    r = subprocess.run(_convert_cmd(big_ckpt, out, type_name), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf"]
    _check_complete(out, big_ckpt, type_name)
    print(f"{type_name}: killed with {killed_at >> 10} KiB of {watch.name} written; "
          f"rerun wrote {out.stat().st_size >> 10} KiB")


def _check_complete(out: Path, ckpt: Path, type_name: str) -> None:
    """The rerun's GGUF is whole: gguf parses every tensor, llama.cpp loads and runs it."""
    reader = GGUFReader(out)
    names = {t.name for t in reader.tensors}
    cfg = json.loads((ckpt / "config.json").read_text())
    for i in range(cfg["num_hidden_layers"]):
        assert {f"blk.{i}.ffn_up_exps.weight", f"blk.{i}.ffn_down_exps.weight"} <= names
    end = max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
    assert end <= out.stat().st_size
    if type_name == "F16":  # the last tensor written holds the source values, not zeros
        from quantize.checkpoint import open_checkpoint

        last = cfg["num_hidden_layers"] - 1
        want = open_checkpoint(ckpt).tensors[
            f"model.layers.{last}.mlp.experts.7.down_proj.weight"].load_f32()
        t = next(t for t in reader.tensors if t.name == f"blk.{last}.ffn_down_exps.weight")
        got = np.asarray(t.data).reshape(-1, *want.shape)[7].astype(np.float32)
        np.testing.assert_array_equal(got, want)

    from llama_cpp import Llama

    llm = Llama(model_path=str(out), n_ctx=32, n_threads=1, verbose=False)
    try:
        toks = llm.tokenize(b"def f():", add_bos=False)
        assert llm.eval(toks) is None and np.isfinite(llm.scores[len(toks) - 1]).all()
    finally:
        llm.close()


# --------------------------------------------------------------------------- malformed headers


@pytest.fixture
def ckpt(checkpoint: Callable[..., Path], tmp_path: Path) -> Path:
    """A private copy of a tiny two-shard qwen3moe checkpoint; its first shard gets corrupted."""
    dst = tmp_path / "ckpt"
    shutil.copytree(checkpoint("qwen3moe", layers=1, shards=2), dst)
    return dst


SHARD = "model-00001-of-00002.safetensors"


def _split(path: Path) -> tuple[dict[str, Any], bytes]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _join(path: Path, header: dict[str, Any], data: bytes) -> None:
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)


def _tensors(header: dict[str, Any]) -> list[str]:
    """Tensor names in data order."""
    names = [k for k in header if k != "__metadata__"]
    return sorted(names, key=lambda k: header[k]["data_offsets"][0])


def _same_shape_pair(header: dict[str, Any]) -> tuple[str, str]:
    names = _tensors(header)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if (header[a]["shape"], header[a]["dtype"]) == (header[b]["shape"], header[b]["dtype"]):
                return a, b
    raise AssertionError("no two tensors of one shape in the shard")


def huge_length(p: Path) -> str:
    raw = p.read_bytes()
    p.write_bytes(struct.pack("<Q", 2**60) + raw[8:])
    return "header of 1152921504606846976 bytes"


def header_over_cap(p: Path) -> str:
    # A header length the file really has room for (sparse, no disk used) but far past any sane
    # header: reading it would mean a 3 GiB allocation, over the child's address-space limit.
    n = 3 * GiB
    with p.open("r+b") as f:
        f.write(struct.pack("<Q", n))
        f.truncate(8 + n + 16)
    return "exceeds the 100000000-byte limit"


def not_json(p: Path) -> str:
    _, data = _split(p)
    body = b"{not json" + b" " * 100
    p.write_bytes(struct.pack("<Q", len(body)) + body + data)
    return "cannot read safetensors header"


def not_an_object(p: Path) -> str:
    _, data = _split(p)
    p.write_bytes(struct.pack("<Q", 6) + b"[1, 2]" + data)
    return "not a JSON object"


def missing_field(p: Path) -> str:
    h, data = _split(p)
    del h[_tensors(h)[0]]["data_offsets"]
    _join(p, h, data)
    return "malformed header entry"


def overlapping(p: Path) -> str:
    # Same shape and dtype, so each size check passes: only the overlap is wrong. Without the
    # check this converted "successfully", with one tensor silently holding another's weights.
    h, data = _split(p)
    a, b = _same_shape_pair(h)
    h[b]["data_offsets"] = list(h[a]["data_offsets"])
    _join(p, h, data)
    return "overlapping data_offsets"


def partly_overlapping(p: Path) -> str:
    h, data = _split(p)
    names = _tensors(h)
    b = names[-1]
    start, end = h[b]["data_offsets"]
    shift = 4 if end - start > 4 else 0
    assert shift, "need a tensor of more than 4 bytes"
    h[b]["data_offsets"] = [start - shift, end - shift]  # 4 bytes into its neighbour
    _join(p, h, data)
    return "overlapping data_offsets"


def past_eof(p: Path) -> str:
    h, data = _split(p)
    name = _tensors(h)[0]
    h[name]["data_offsets"] = [2**62, 2**62 + 4 * int(np.prod(h[name]["shape"]))]
    _join(p, h, data)
    return "needs bytes up to"


def inverted(p: Path) -> str:
    h, data = _split(p)
    name = _tensors(h)[1]
    start, end = h[name]["data_offsets"]
    h[name]["data_offsets"] = [end, start]
    _join(p, h, data)
    return "need 0 <= start <= end"


def negative(p: Path) -> str:
    h, data = _split(p)
    name = _tensors(h)[0]
    start, end = h[name]["data_offsets"]
    h[name]["data_offsets"] = [start - 64, end - 64]  # would read the header as weights
    _join(p, h, data)
    return "invalid data_offsets"


def shape_larger_than_span(p: Path) -> str:
    h, data = _split(p)
    name = _tensors(h)[0]
    h[name]["shape"] = [2 * h[name]["shape"][0], *h[name]["shape"][1:]]
    _join(p, h, data)
    return "bytes but data_offsets"


def absurd_shape(p: Path) -> str:
    # 2^80 elements: np.prod would overflow int64 (to 0); it must not be trusted or allocated.
    h, data = _split(p)
    name = _tensors(h)[0]
    h[name]["shape"] = [2**40, 2**40]
    _join(p, h, data)
    return "bytes but data_offsets"


def negative_dim(p: Path) -> str:
    h, data = _split(p)
    name = _tensors(h)[0]
    h[name]["shape"] = [-1, *h[name]["shape"]]
    _join(p, h, data)
    return "invalid shape"


CORRUPTIONS = [huge_length, header_over_cap, not_json, not_an_object, missing_field, overlapping,
               partly_overlapping, past_eof, inverted, negative, shape_larger_than_span,
               absurd_shape, negative_dim]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def test_pristine_shard_converts_under_the_memory_limit(ckpt: Path, tmp_path: Path) -> None:
    # Control: the same checkpoint, uncorrupted, converts under the same limit, so each failure
    # below is the corruption's doing, not the limit's.
    out = tmp_path / "out" / "model.gguf"
    out.parent.mkdir()
    r = subprocess.run(_convert_cmd(ckpt, out), capture_output=True, text=True, timeout=120,
                       preexec_fn=_limit_memory)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"GGUF"


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__)
def test_malformed_header_rejected(ckpt: Path, tmp_path: Path,
                                   corrupt: Callable[[Path], str]) -> None:
    shard = ckpt / SHARD
    needle = corrupt(shard)
    out = tmp_path / "out" / "model.gguf"
    out.parent.mkdir()
    r = subprocess.run(_convert_cmd(ckpt, out), capture_output=True, text=True, timeout=120,
                       preexec_fn=_limit_memory)
    err = r.stderr
    assert r.returncode == 2, err  # CheckpointError: bad input, not a crash (1) or a signal
    assert "Traceback" not in err and "MemoryError" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert str(shard) in err, err  # names the file at fault
    assert needle in err, err  # and the problem
    assert list(out.parent.iterdir()) == [], "output or temp file left behind"


def test_error_is_raised_before_reading_tensor_data(ckpt: Path) -> None:
    # In-process: the header checks run in open_checkpoint, before any byte of tensor data
    # is mapped, so a bad shard fails fast whatever its size.
    from quantize.checkpoint import CheckpointError, open_checkpoint

    header_over_cap(ckpt / SHARD)
    t0 = time.monotonic()
    with pytest.raises(CheckpointError, match="100000000-byte limit"):
        open_checkpoint(ckpt)
    assert time.monotonic() - t0 < 5
    assert (ckpt / SHARD).stat().st_blocks * 512 < 64 << 20  # sparse: the test costs no disk
