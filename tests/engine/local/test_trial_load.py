"""The trial load in a child process, for real: a child that really dies of SIGSEGV (the probe's
fault switch reads address 0), the fallback to plain weight buffers, the cached verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smallcode_lsp.engine.cpu import read_cpu
from smallcode_lsp.engine.info import LoadOptions, ModelLoadError
from smallcode_lsp.engine.local import probe
from smallcode_lsp.engine.local.loader import load_local
from smallcode_lsp.engine.local.probe import TrialSpec, VerdictCache, run_trial

OPTIONS = LoadOptions(n_ctx=512, cpu_repack="on")


def spec(path: str, extra_bufts: bool) -> TrialSpec:
    return TrialSpec(path, 512, 0, 0, 512, 0, 0, extra_bufts)


def test_a_child_that_segfaults_is_judged_crashed(
    default_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(probe.FAULT_ENV, "repack")
    crashed = run_trial(spec(default_model, True))
    assert crashed is not None and not crashed.ok
    assert "SIGSEGV" in crashed.detail
    survived = run_trial(spec(default_model, False))
    assert survived is not None and survived.ok, survived
    assert "tokens" in survived.detail


def test_a_crash_with_repacked_buffers_falls_back_and_says_so(
    default_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(probe.FAULT_ENV, "repack")
    cache = VerdictCache(tmp_path / "probes.json")
    model = load_local(default_model, OPTIONS, cache)
    try:
        runtime = model.info.runtime
        assert runtime is not None and not runtime.repack.on and not model.extra_bufts
        assert runtime.notice is not None and "SIGSEGV" in runtime.notice
        assert "cpuRepack" in runtime.notice
        assert all(name != "CPU_REPACK" for name, _ in runtime.weight_buffers)
        assert runtime.weight_buffers, "llama.cpp's buffer lines were not read"
        text, _ = model.generate(model.tokenize("def add(a, b):\n"), _params(), (), _cancel())
        assert text  # the fallen-back model runs in this process
    finally:
        model.close()
    # Both verdicts are kept: the next load runs no child and says it remembered.
    again = load_local(default_model, OPTIONS, cache)
    try:
        assert again.info.runtime is not None
        assert "remembered" in again.info.runtime.trial
        assert again.info.runtime.notice is not None
    finally:
        again.close()


def test_a_model_that_crashes_either_way_is_a_clear_load_error(
    default_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(probe.FAULT_ENV, "always")
    with pytest.raises(ModelLoadError, match=r"even without repacked weight buffers.*SIGSEGV"):
        load_local(default_model, OPTIONS, VerdictCache(tmp_path / "probes.json"))


def test_a_kill_from_outside_is_survived_but_not_remembered(
    default_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(probe.FAULT_ENV, "kill")
    cache = VerdictCache(tmp_path / "probes.json")
    model = load_local(default_model, OPTIONS, cache)
    try:
        assert model.info.runtime is not None and "SIGKILL" in (model.info.runtime.notice or "")
    finally:
        model.close()
    kept = json.loads((tmp_path / "probes.json").read_text())
    assert [entry["ok"] for entry in kept.values()] == [True]  # the plain load's verdict only


@pytest.mark.skipif(
    read_cpu().has_amx, reason="AMX CPUs: the repacked trial may crash for real (llama.cpp #20824)"
)
def test_without_a_crash_the_repacked_buffers_stay(default_model: str, tmp_path: Path) -> None:
    model = load_local(default_model, OPTIONS, VerdictCache(tmp_path / "probes.json"))
    try:
        runtime = model.info.runtime
        assert runtime is not None and runtime.repack.on and runtime.notice is None
        assert "child process" in runtime.trial
    finally:
        model.close()


def _params():
    from smallcode_lsp.types import GenerationParams

    return GenerationParams(max_tokens=8, speculative=False)


def _cancel():
    from smallcode_lsp.engine.cancel import CancelToken

    return CancelToken()
