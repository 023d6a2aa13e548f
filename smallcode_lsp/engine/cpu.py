"""Which CPU this is, and whether llama.cpp's repacked weight buffers are safe on it.

llama.cpp copies the weights of a CPU model into "extra" buffer types laid out for the CPU's
kernels (CPU_REPACK for AVX2/AVX-512/NEON, AMX on Intel's AMX cores). That is faster where it
works, but on AMX CPUs the AMX kernels segfault at the first decode (llama.cpp issue 20824;
machine-dependent, closed without a fix). So the choice is made per CPU: repacked buffers on,
except on AMX CPUs. Pure logic apart from reading /proc/cpuinfo (or sysctl on macOS).
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from dataclasses import dataclass

# The flags that pick llama.cpp's CPU kernels (x86 and ARM names as /proc/cpuinfo spells them).
KERNEL_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx_vnni",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
    "asimd",
    "asimddp",
    "i8mm",
    "sve",
    "sme",
)
AMX_FLAGS = frozenset({"amx_tile", "amx_int8", "amx_bf16"})
REPACK_CHOICES = ("auto", "on", "off")
AMX_CRASH = "llama.cpp issue 20824: its AMX kernels segfault at the first decode"


@dataclass(frozen=True)
class CpuFeatures:
    model: str
    machine: str  # platform.machine(): x86_64, arm64, aarch64
    cores: int
    flags: frozenset[str]  # of KERNEL_FLAGS, the ones this CPU has

    @property
    def has_amx(self) -> bool:
        return bool(self.flags & AMX_FLAGS)

    @property
    def fingerprint(self) -> str:
        """What a probe verdict depends on: the model name and the kernel-picking flags."""
        return f"{self.model}|{self.machine}|{','.join(sorted(self.flags))}"

    def summary(self) -> str:
        """E.g. 'AMD EPYC, x86_64, 2 cores: avx avx2 f16c fma (no AVX-512, no AMX)'."""
        flags = " ".join(flag for flag in KERNEL_FLAGS if flag in self.flags) or "no SIMD flags"
        missing = []
        if self.machine in ("x86_64", "AMD64"):
            if "avx512f" not in self.flags:
                missing.append("no AVX-512")
            if not self.has_amx:
                missing.append("no AMX")
        tail = f" ({', '.join(missing)})" if missing else ""
        return f"{self.model}, {self.machine}, {self.cores} cores: {flags}{tail}"

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "machine": self.machine,
            "cores": self.cores,
            "flags": [flag for flag in KERNEL_FLAGS if flag in self.flags],
        }


def parse_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """The model name and kernel flags of Linux's /proc/cpuinfo (the first CPU's)."""
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model", "Hardware") and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split()) & frozenset(KERNEL_FLAGS)
    return model, flags


def _sysctl(name: str) -> str:
    try:
        done = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


@functools.cache
def read_cpu() -> CpuFeatures:
    """This machine's CPU (read once)."""
    machine = platform.machine()
    cores = os.cpu_count() or 1
    model, flags = "", frozenset[str]()
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                model, flags = parse_cpuinfo(f.read())
        except OSError:
            pass
    elif sys.platform == "darwin":
        model = _sysctl("machdep.cpu.brand_string")
        if machine == "arm64":
            flags = frozenset({"asimd", "asimddp"})  # every Apple silicon core has NEON + dot
            if _sysctl("hw.optional.arm.FEAT_I8MM") == "1":
                flags |= {"i8mm"}
        else:
            found = _sysctl("machdep.cpu.features") + " " + _sysctl("machdep.cpu.leaf7_features")
            flags = frozenset(f.lower().replace(".", "_") for f in found.split()) & frozenset(
                KERNEL_FLAGS
            )
    return CpuFeatures(
        model=model or platform.processor() or machine, machine=machine, cores=cores, flags=flags
    )


@dataclass(frozen=True)
class RepackChoice:
    """Whether weights go to llama.cpp's extra (repacked) buffer types, and why."""

    on: bool
    reason: str


def choose_repack(setting: str, cpu: CpuFeatures) -> RepackChoice:
    """`cpuRepack` (auto/on/off) on this CPU: auto keeps the fast repacked layouts except on
    AMX CPUs, where llama.cpp's AMX path is known to crash."""
    if setting == "on":
        return RepackChoice(True, "cpuRepack on")
    if setting == "off":
        return RepackChoice(False, "cpuRepack off")
    if cpu.has_amx:
        return RepackChoice(False, f"auto: off on AMX CPUs ({AMX_CRASH})")
    return RepackChoice(True, "auto: on (no AMX on this CPU)")


def parse_system_info(text: str) -> tuple[str, ...]:
    """The CPU features a llama.cpp build uses, from `llama_print_system_info()`:
    'CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 0 | REPACK = 1 |' -> ('SSE3', 'AVX2', 'REPACK')."""
    features = []
    for part in text.replace("\n", "|").split("|"):
        name, _, value = part.rpartition("=")
        name = name.split(":")[-1].strip()
        if name and value.strip() == "1" and name not in features:
            features.append(name)
    return tuple(features)


@dataclass(frozen=True)
class RuntimeInfo:
    """How an in-process model runs on this machine, for `smallcode-lsp model` and the status."""

    cpu: CpuFeatures
    build_features: tuple[str, ...]  # what the llama.cpp build uses (parse_system_info)
    repack: RepackChoice
    weight_buffers: tuple[tuple[str, float], ...]  # (llama.cpp buffer type, MiB) as loaded
    trial: str  # the trial load's verdict, or why there was none
    notice: str | None = None  # what the user must be told: a crash, and what was changed

    def buffers_text(self) -> str:
        shown = ", ".join(f"{name} {mib:.1f} MiB" for name, mib in self.weight_buffers)
        layout = "repacked for this CPU" if self.repack.on else "as stored, not repacked"
        return f"{shown or 'none logged'} ({layout}: {self.repack.reason})"

    def as_dict(self) -> dict[str, object]:
        return {
            "cpu": self.cpu.as_dict(),
            "buildFeatures": list(self.build_features),
            "repack": self.repack.on,
            "repackReason": self.repack.reason,
            "weightBuffers": [{"type": name, "mib": mib} for name, mib in self.weight_buffers],
            "trial": self.trial,
            "notice": self.notice,
        }


def llama_server_args(cpu: CpuFeatures) -> list[str]:
    """llama-server's flags for the same per-CPU choice (it repacks by default)."""
    return [] if choose_repack("auto", cpu).on else ["--no-repack"]


def llama_bench_args(cpu: CpuFeatures) -> list[str]:
    """llama-bench's flags for the same per-CPU choice."""
    return [] if choose_repack("auto", cpu).on else ["--repack", "0"]
