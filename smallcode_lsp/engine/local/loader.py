"""Loading the in-process model so that llama.cpp cannot take the server down with it.

1. The weight layout is chosen per CPU (cpu.py: llama.cpp's repacked buffers, except on AMX).
2. A combination that has not run here is first tried in a child process (probe.py).
3. When the child dies of a signal with repacked buffers, they are switched off and tried
   again; the user is told what happened and what was changed (the model info's `notice`,
   which the server shows and `smallcode-lsp model` prints). When it dies even so, the load
   fails with a ModelLoadError that says so: the server stays up, completions are off.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from pathlib import Path

import llama_cpp

from smallcode_lsp.engine.cpu import (
    RepackChoice,
    RuntimeInfo,
    choose_repack,
    parse_system_info,
    read_cpu,
)
from smallcode_lsp.engine.info import LoadOptions, ModelLoadError
from smallcode_lsp.engine.local.generate import LocalModel
from smallcode_lsp.engine.local.model import check_gguf_file
from smallcode_lsp.engine.local.probe import TrialSpec, Verdict, VerdictCache, run_trial

log = logging.getLogger(__name__)


@functools.cache
def build_features() -> tuple[str, ...]:
    info = llama_cpp.llama_print_system_info()
    text = info.decode("utf-8", errors="replace") if isinstance(info, bytes) else str(info)
    return parse_system_info(text)


@functools.cache
def build_id() -> str:
    """The llama.cpp build: llama-cpp-python's version and its libraries' sizes and times
    (a reinstall with other CMAKE_ARGS is another build)."""
    lib = Path(llama_cpp.__file__).parent / "lib"
    files = sorted(lib.glob("*")) if lib.is_dir() else []
    stamps = ",".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    return f"{llama_cpp.__version__}|{stamps}|{'/'.join(build_features())}"


def _spec(path: str, options: LoadOptions, extra_bufts: bool) -> TrialSpec:
    return TrialSpec(
        path=path,
        n_ctx=options.n_ctx,
        n_threads=options.n_threads,
        n_gpu_layers=options.n_gpu_layers,
        n_batch=options.n_batch,
        experts_used=options.experts_used,
        cpu_moe=options.cpu_moe,
        extra_bufts=extra_bufts,
    )


def trial(
    path: str, options: LoadOptions, extra_bufts: bool, cache: VerdictCache
) -> Verdict | None:
    """The verdict on loading `path` so: remembered, else from a child process (then kept)."""
    spec = _spec(path, options, extra_bufts)
    key = spec.key(build_id(), read_cpu().fingerprint)
    known = cache.get(key)
    if known is not None:
        day = time.strftime("%Y-%m-%d", time.localtime(known.when))
        return dataclasses.replace(known, detail=f"{known.detail} (remembered from {day})")
    log.info("trial load in a child process (repacked weights %s)", "on" if extra_bufts else "off")
    verdict = run_trial(spec)
    if verdict is not None and verdict.lasting:
        cache.put(key, verdict)
    return verdict


def load_local(path: str, options: LoadOptions, cache: VerdictCache | None = None) -> LocalModel:
    """The model at `path`, loaded in this process only after a trial showed it survives."""
    check_gguf_file(path)
    cache = cache or VerdictCache()
    cpu = read_cpu()
    choice = choose_repack(options.cpu_repack, cpu)
    verdict = trial(path, options, choice.on, cache)
    notice = None
    if verdict is not None and not verdict.ok and choice.on:
        crashed = verdict
        choice = RepackChoice(False, f"off: the trial with them crashed ({choice.reason})")
        verdict = trial(path, options, False, cache)
        notice = (
            f"llama.cpp crashed in a trial load of {Path(path).name} with repacked weight"
            f" buffers on this CPU ({cpu.model}; {crashed.detail}). Loaded without them"
            " instead: completions work, prompts may be slower. Set cpuRepack to off to stop"
            " this message."
        )
    if verdict is not None and not verdict.ok:
        raise ModelLoadError(
            f"llama.cpp crashes on this CPU ({cpu.model}) loading {Path(path).name}, even without"
            f" repacked weight buffers ({verdict.detail}); the server stays up without"
            " completions. Try another model, nGpuLayers 0, or another llama-cpp-python build"
        )
    model = LocalModel(path, options, extra_bufts=choice.on)
    runtime = RuntimeInfo(
        cpu=cpu,
        build_features=build_features(),
        repack=choice,
        weight_buffers=model.weight_buffers,
        trial=verdict.detail if verdict is not None else "inconclusive (see the log)",
        notice=notice,
    )
    model.info = dataclasses.replace(model.info, runtime=runtime)
    log.info("weight buffers: %s", runtime.buffers_text())
    if notice:
        log.warning("%s", notice)
    return model
