"""Quantizer benchmark: conversion throughput and peak RSS, and expert-aware vs uniform at the
same target type (file size, KL and top-1 against the F16 GGUF of the same model).

Run: .venv/bin/python benchmarks/quantize_bench.py [--json out.json]
Needs torch + transformers + tokenizers (to build the tiny model) and llama-cpp-python.
Weights are random, so absolute KL says little about real models; the comparison between
recipes at equal target type is the point.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quantize.inspect_gguf import summarize
from quantize.tiny import build_checkpoint, write_random_qwen3moe
from quantize.verify import verify

MB = 1024 * 1024


def _timed_convert(src: Path, out: Path, type_name: str, recipe: str) -> tuple[float, int]:
    """Run the CLI in a child; return (seconds, child's peak RSS in bytes)."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter();"
        f"subprocess.run([sys.executable, '-m', 'quantize.cli', 'convert', {str(src)!r}, '-o',"
        f" {str(out)!r}, '--type', {type_name!r}, '--recipe', {recipe!r}, '--no-progress'],"
        " check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    secs, rss_kib = r.stdout.split()
    return float(secs), int(rss_kib) * 1024


def throughput(work: Path) -> dict[str, float]:
    """F16 conversion of a ~160 MiB sharded checkpoint: MB/s and peak RSS."""
    src = work / "big"
    total, largest = write_random_qwen3moe(src, 512, 512, 8, 12)
    secs, rss = _timed_convert(src, work / "big-f16.gguf", "F16", "uniform")
    row = {"checkpoint_mib": total / MB, "largest_tensor_mib": largest / MB,
           "seconds": secs, "mb_per_s": total / MB / secs, "peak_rss_mib": rss / MB}
    print(f"F16 conversion: {row['checkpoint_mib']:.0f} MiB checkpoint (largest stacked tensor "
          f"{row['largest_tensor_mib']:.0f} MiB) in {secs:.2f} s = {row['mb_per_s']:.0f} MiB/s, "
          f"peak RSS {row['peak_rss_mib']:.0f} MiB")
    # Quantized: F16 base written by us, then llama.cpp's quantizer (it holds tensors in RAM
    # up to its own max_buf_size, so its peak is llama.cpp's, not ours).
    qsecs, qrss = _timed_convert(src, work / "big-q4.gguf", "Q4_K_M", "expert-aware")
    row.update(q4_k_m_seconds=qsecs, q4_k_m_mb_per_s=total / MB / qsecs,
               q4_k_m_peak_rss_mib=qrss / MB)
    print(f"Q4_K_M expert-aware conversion: {qsecs:.2f} s = {total / MB / qsecs:.0f} MiB/s, "
          f"peak RSS {qrss / MB:.0f} MiB")
    return row


def recipes(work: Path) -> list[dict[str, object]]:
    """Expert-aware vs uniform at each target type, against the F16 GGUF."""
    src = work / "tiny"
    build_checkpoint(src, "qwen3moe", hidden=256, ff=256, layers=4, experts=8)
    f16 = work / "tiny-F16.gguf"
    _timed_convert(src, f16, "F16", "uniform")
    ref = verify(f16, reference=src)
    print(f"\nF16 vs transformers: {ref.line()}")
    rows: list[dict[str, object]] = []
    header = f"{'type':8} {'recipe':13} {'MiB':>6} {'experts MiB':>11} {'top1':>6} {'KL mean':>9}"
    print("\n" + header + "\n" + "-" * len(header))
    for type_name in ("Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"):
        for recipe in ("uniform", "expert-aware"):
            out = work / f"tiny-{type_name}-{recipe}.gguf"
            _timed_convert(src, out, type_name, recipe)
            s = summarize(out)
            r = verify(out, against=f16)
            row: dict[str, object] = {"type": type_name, "recipe": recipe, "mib": s.file_bytes / MB,
                   "expert_mib": s.expert_bytes / MB, "top1": r.top1, "kl_mean": r.kl_mean}
            rows.append(row)
            print(f"{type_name:8} {recipe:13} {s.file_bytes / MB:6.2f} {s.expert_bytes / MB:11.2f}"
                  f" {r.top1:6.1%} {r.kl_mean:9.5f}")
    return rows


def main() -> None:
    """Print the tables; optionally write them as JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        result = {"throughput": throughput(Path(d)), "recipes": recipes(Path(d))}
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
