"""The CLI's setting flags come from options.SETTINGS_SPEC: every model and engine setting has
one on every subcommand, and a flag's value reaches the Settings object."""

from __future__ import annotations

import argparse

import pytest

from smallcode_lsp.cli import _settings, build_parser, cli_settings, setting_flag
from smallcode_lsp.options import SETTINGS_SPEC, SettingSpec

COMMANDS = {"serve": [], "complete": ["a.py:1:1"], "eval": ["src"], "model": []}
# The flag names the CLI had before it was generated: they keep working as they were.
FLAGS_BEFORE = {
    "model": "--model",
    "nCtx": "--n-ctx",
    "nThreads": "--threads",
    "nGpuLayers": "--gpu-layers",
    "expertsUsed": "--experts-used",
    "cpuMoe": "--cpu-moe",
    "cpuRepack": "--cpu-repack",
    "warmCacheMb": "--warm-cache-mb",
    "engineUrl": "--engine-url",
    "engineKind": "--engine-kind",
    "engineModel": "--engine-model",
    "engineFimTemplate": "--engine-fim-template",
    "engineApiKeyEnv": "--engine-api-key-env",
    "engineCaFile": "--engine-ca-file",
    "nextEditModel": "--next-edit-model",
    "nextEditFormat": "--next-edit-format",
    "maxTokens": "--max-tokens",  # complete, eval
    "latencyBudgetMs": "--latency-budget-ms",  # eval
}


def _flags(command: str) -> set[str]:
    sub = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices[command]
    return {flag for action in sub._actions for flag in action.option_strings}


def _value(spec: SettingSpec) -> tuple[list[str], object]:
    """Arguments setting `spec` to a value other than its default, and that value."""
    flag = setting_flag(spec.key)
    if spec.kind == "boolean":
        negated = "--no-" + flag.removeprefix("--")
        return ([negated] if spec.default else [flag]), not spec.default
    if spec.choices:
        value = next(c for c in spec.choices if c != spec.default)
        return [flag, value], value
    if spec.kind == "string":
        return [flag, "/tmp/some-value"], "/tmp/some-value"
    assert spec.bounds is not None
    low, high = spec.bounds
    number = low + 1 if low + 1 != spec.default else low + 2
    assert number <= high
    if spec.kind == "integer":
        return [flag, str(int(number))], int(number)
    return [flag, str(number)], float(number)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_model_and_engine_setting_has_a_flag(command: str) -> None:
    flags = _flags(command)
    for spec in SETTINGS_SPEC:
        if spec.group in ("model", "engine"):
            assert setting_flag(spec.key) in flags, f"{command}: no flag for {spec.key}"
    for key in ("engineInfill", "engineFallback", "engineTimeoutMs"):  # issue 18
        assert setting_flag(key) in flags
    assert {"--engine-infill", "--no-engine-fallback", "--engine-timeout-ms"} <= flags


def test_the_flags_before_generation_keep_their_names() -> None:
    for key, flag in FLAGS_BEFORE.items():
        assert setting_flag(key) == flag
    assert {*FLAGS_BEFORE.values()} - {"--latency-budget-ms", "--max-tokens"} <= _flags("serve")
    assert {"--max-tokens"} <= _flags("complete")
    assert {"--max-tokens", "--latency-budget-ms"} <= _flags("eval")
    assert "--latency-budget-ms" not in _flags("complete")  # always 0 there


@pytest.mark.parametrize("command", COMMANDS)
def test_a_flag_value_reaches_the_settings(command: str) -> None:
    parser = build_parser()
    for spec in cli_settings(command):
        args, want = _value(spec)
        settings = _settings(parser.parse_args([command, *COMMANDS[command], *args]))
        assert spec.value_in(settings) == want, f"{command} {' '.join(args)}"


@pytest.mark.parametrize("command", COMMANDS)
def test_without_flags_the_settings_are_the_defaults(command: str) -> None:
    settings = _settings(build_parser().parse_args([command, *COMMANDS[command]]))
    for spec in SETTINGS_SPEC:
        if spec.key == "latencyBudgetMs" and command == "complete":
            assert spec.value_in(settings) == 0  # no keystroke deadline: the whole suggestion
        else:
            assert spec.value_in(settings) == spec.default, f"{command}: {spec.key}"
