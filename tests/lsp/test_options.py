import dataclasses

import pytest

from smallcode_lsp.options import (
    GROUPS,
    SETTINGS_SPEC,
    BenchmarkSwitches,
    CompletionSettings,
    EngineSettings,
    ModelSettings,
    Settings,
    merge_settings,
    setting_spec,
)


def test_camel_case_settings_are_applied() -> None:
    settings, problems = merge_settings(
        Settings(),
        {
            "maxTokens": 32,
            "nCtx": 2048,
            "temperature": 0.2,
            "model": "~/m.gguf",
            "disabledLanguages": ["markdown"],
            "cacheReuse": False,
            "latencyBudgetMs": 0,
        },
    )
    assert problems == []
    assert settings.completion.max_tokens == 32
    assert settings.model.n_ctx == 2048
    assert settings.completion.temperature == 0.2
    assert settings.model.path == "~/m.gguf"
    assert settings.completion.disabled_languages == ("markdown",)
    assert settings.bench.cache_reuse is False
    assert settings.completion.latency_budget_ms == 0


def test_bad_values_are_reported_and_ignored() -> None:
    base = Settings(completion=CompletionSettings(max_tokens=20))
    settings, problems = merge_settings(
        base, {"maxTokens": "many", "nCtx": -5, "enable": "yes", "temperature": True}
    )
    assert settings == base
    assert len(problems) == 4
    assert any("maxTokens" in p for p in problems)


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("maxTokens", 4096, True),
        ("maxTokens", 4097, False),
        ("maxTokens", 0, False),
        ("nCtx", 256, True),
        ("nCtx", 255, False),
        ("nGpuLayers", -1, True),
        ("nGpuLayers", -2, False),
        ("temperature", 5, True),
        ("temperature", 5.5, False),
        ("invokedItems", 11, False),
        ("cpuMoe", -1, True),
        ("latencyBudgetMs", 600_001, False),
        ("model", 3, False),
        ("disabledLanguages", ["a", 1], False),
        ("cacheShift", 0, False),
    ],
)
def test_bounds_and_types(key: str, value: object, ok: bool) -> None:
    settings, problems = merge_settings(Settings(), {key: value})
    assert (problems == []) is ok, problems
    if not ok:
        assert settings == Settings()
        assert f"smallcode.{key}=" in problems[0]


def test_a_bad_value_keeps_the_previous_not_the_default() -> None:
    base, _ = merge_settings(Settings(), {"nCtx": 1024, "maxTokens": 10})
    settings, problems = merge_settings(base, {"nCtx": "big", "maxTokens": 12})
    assert len(problems) == 1
    assert settings.model.n_ctx == 1024
    assert settings.completion.max_tokens == 12


def test_empty_model_means_the_embedded_default() -> None:
    base = Settings(model=ModelSettings(path="/x.gguf"))
    assert merge_settings(base, {"model": ""})[0].model.path is None
    assert merge_settings(base, {"model": None})[0].model.path is None


def test_non_object_payload_is_rejected() -> None:
    settings, problems = merge_settings(Settings(), ["model"])
    assert settings == Settings()
    assert problems


def test_unknown_keys_are_ignored_and_none_is_no_change() -> None:
    assert merge_settings(Settings(), {"colour": "red"}) == (Settings(), [])
    assert merge_settings(Settings(), None) == (Settings(), [])
    # Group names are no keys: the wire format stays flat.
    assert merge_settings(Settings(), {"completion": {"maxTokens": 3}}) == (Settings(), [])


def test_reload_needed_only_for_model_settings() -> None:
    base = Settings()
    completion = CompletionSettings(max_tokens=10, temperature=0.5)
    assert not base.reload_needed(Settings(completion=completion))
    assert not base.reload_needed(Settings(bench=BenchmarkSwitches(cache_reuse=False)))
    assert base.reload_needed(Settings(model=ModelSettings(path="/x.gguf")))
    assert base.reload_needed(Settings(model=ModelSettings(n_ctx=1024)))
    assert base.reload_needed(Settings(model=ModelSettings(cpu_moe=-1)))


def test_engine_settings_never_reload_the_in_process_model() -> None:
    base = Settings()
    for engine in (
        EngineSettings(engine_timeout_ms=2500),
        EngineSettings(engine_kind="openai", engine_fallback=True, engine_infill=True),
        EngineSettings(engine_api_key_env="KEY", engine_ca_file="/ca.pem"),
    ):
        assert not base.reload_needed(Settings(engine=engine)), engine
    # With an engine set, they change what runs: connect again.
    remote = Settings(engine=EngineSettings(engine_url="http://gpu-box:8080"))
    assert base.reload_needed(remote) and remote.reload_needed(base)
    slower = Settings(engine=EngineSettings(engine_url="http://gpu-box:8080", engine_timeout_ms=1))
    assert remote.reload_needed(slower)
    assert not remote.reload_needed(remote)


def test_engine_keys_stay_flat_and_fill_the_engine_group() -> None:
    settings, problems = merge_settings(
        Settings(), {"engineUrl": "http://h:1", "engineTimeoutMs": 2500, "nCtx": 1024}
    )
    assert problems == []
    assert (settings.engine.engine_url, settings.engine.engine_timeout_ms) == ("http://h:1", 2500)
    assert settings.model == ModelSettings(n_ctx=1024)
    assert setting_spec("engineTimeoutMs").group == "engine"


def test_load_options_carry_the_model_group() -> None:
    options = ModelSettings(n_ctx=2048, n_threads=3, n_gpu_layers=-1, experts_used=2, cpu_moe=4)
    loaded = options.load_options()
    assert (loaded.n_ctx, loaded.n_threads, loaded.n_gpu_layers) == (2048, 3, -1)
    assert (loaded.experts_used, loaded.cpu_moe) == (2, 4)


def test_spec_covers_every_field_once() -> None:
    fields = {(g, f.name) for g, cls in GROUPS.items() for f in dataclasses.fields(cls)}
    assert {(s.group, s.name) for s in SETTINGS_SPEC} == fields
    keys = [s.key for s in SETTINGS_SPEC]
    assert len(keys) == len(set(keys)) == 39
    assert setting_spec("model").name == "path"
    assert setting_spec("cacheShift").group == "bench"
    for spec in SETTINGS_SPEC:
        assert spec.description and "\n" not in spec.description
        assert spec.value_in(Settings()) == spec.default
        if spec.bounds is not None:
            low, high = spec.bounds
            assert low <= spec.default <= high, spec.key
