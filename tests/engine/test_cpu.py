"""The per-CPU choice of llama.cpp's weight layouts (pure logic: cpuinfo text in, choice out)."""

from __future__ import annotations

from smallcode_lsp.engine.cpu import (
    CpuFeatures,
    choose_repack,
    llama_bench_args,
    llama_server_args,
    parse_cpuinfo,
    parse_system_info,
)

XEON_AMX = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu sse sse2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16 \
avx512_fp16 amx_bf16 amx_tile amx_int8
"""
EPYC = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx avx2 fma f16c bmi2 sha_ni vaes
processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx avx2 fma f16c bmi2 sha_ni vaes
"""
GRAVITON = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm \
asimddp i8mm sve
"""


def cpu(text: str, machine: str = "x86_64") -> CpuFeatures:
    model, flags = parse_cpuinfo(text)
    return CpuFeatures(model=model, machine=machine, cores=2, flags=flags)


def test_an_amx_xeon_gets_plain_weights_and_says_why() -> None:
    xeon = cpu(XEON_AMX)
    assert xeon.has_amx and xeon.model == "Intel(R) Xeon(R) Platinum 8488C"
    choice = choose_repack("auto", xeon)
    assert not choice.on and "20824" in choice.reason
    assert llama_server_args(xeon) == ["--no-repack"]
    assert llama_bench_args(xeon) == ["--repack", "0"]
    assert "amx_int8" in xeon.summary() and "no AMX" not in xeon.summary()


def test_cpus_without_amx_keep_the_repacked_fast_path() -> None:
    for machine in (cpu(EPYC), cpu(GRAVITON, "aarch64")):
        assert not machine.has_amx
        assert choose_repack("auto", machine).on
        assert llama_server_args(machine) == [] and llama_bench_args(machine) == []
    epyc = cpu(EPYC)
    assert epyc.flags == {"avx", "avx2", "fma", "f16c"}
    assert epyc.summary() == "AMD EPYC, x86_64, 2 cores: avx avx2 fma f16c (no AVX-512, no AMX)"
    assert {"asimd", "asimddp", "i8mm", "sve"} <= cpu(GRAVITON, "aarch64").flags


def test_the_setting_overrides_the_cpu_choice() -> None:
    assert choose_repack("on", cpu(XEON_AMX)).on
    assert not choose_repack("off", cpu(EPYC)).on


def test_the_fingerprint_changes_with_the_flags_that_pick_kernels() -> None:
    assert cpu(EPYC).fingerprint != cpu(XEON_AMX).fingerprint
    assert cpu(EPYC).fingerprint == cpu(EPYC + "flags: sha_ni\n").fingerprint


def test_build_features_are_read_from_llama_cpp_system_info() -> None:
    text = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 0 | REPACK = 1 | "
    assert parse_system_info(text) == ("SSE3", "AVX", "AVX2", "REPACK")
