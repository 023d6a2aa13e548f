"""Streaming: converting a checkpoint many times larger than its largest tensor keeps peak RSS
near one (stacked) tensor, not the model. Conversion runs in a child process so its peak RSS is
measured alone (getrusage RUSAGE_CHILDREN)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from quantize.tiny import write_random_qwen3moe

MB = 1024 * 1024


def _peak_rss(args: list[str]) -> int:
    """Peak RSS (bytes) of a fresh child process running `args`."""
    code = (
        "import resource, subprocess, sys;"
        f"r = subprocess.run({args!r});"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
        "sys.exit(r.returncode)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) * 1024  # ru_maxrss is KiB on Linux


def test_peak_rss_bounded(tmp_path: Path) -> None:
    total, largest = write_random_qwen3moe(tmp_path / "ckpt", 512, 512, 8, 12)
    assert total > 15 * largest  # "several times larger than its largest tensor"
    baseline = _peak_rss([sys.executable, "-c", "import quantize.convert"])
    peak = _peak_rss([sys.executable, "-m", "quantize.cli", "convert", str(tmp_path / "ckpt"),
                      "-o", str(tmp_path / "out.gguf"), "--type", "F16", "--no-progress"])
    assert (tmp_path / "out.gguf").stat().st_size > total * 0.9
    extra = peak - baseline
    # One stacked layer as F32 (2x the F16 bytes) + its F16 copy + one expert being widened,
    # with slack for allocator behaviour; the whole model as F32 would be 2 * total.
    bound = 8 * largest
    print(f"checkpoint {total / MB:.0f} MiB, largest tensor {largest / MB:.0f} MiB, "
          f"baseline {baseline / MB:.0f} MiB, peak {peak / MB:.0f} MiB (+{extra / MB:.0f})")
    assert extra < bound, f"+{extra / MB:.0f} MiB over baseline, bound {bound / MB:.0f} MiB"
