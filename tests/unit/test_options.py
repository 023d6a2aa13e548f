from smallcode_lsp.options import Settings, merge_settings


def test_camel_case_settings_are_applied() -> None:
    settings, problems = merge_settings(
        Settings(),
        {
            "maxTokens": 32,
            "nCtx": 2048,
            "temperature": 0.2,
            "model": "~/m.gguf",
            "disabledLanguages": ["markdown"],
        },
    )
    assert problems == []
    assert settings.max_tokens == 32
    assert settings.n_ctx == 2048
    assert settings.temperature == 0.2
    assert settings.model == "~/m.gguf"
    assert settings.disabled_languages == ("markdown",)


def test_bad_values_are_reported_and_ignored() -> None:
    base = Settings(max_tokens=20)
    settings, problems = merge_settings(
        base, {"maxTokens": "many", "nCtx": -5, "enable": "yes", "temperature": True}
    )
    assert settings == base
    assert len(problems) == 4
    assert any("maxTokens" in p for p in problems)


def test_non_object_payload_is_rejected() -> None:
    settings, problems = merge_settings(Settings(), ["model"])
    assert settings == Settings()
    assert problems


def test_unknown_keys_are_ignored_and_none_is_no_change() -> None:
    assert merge_settings(Settings(), {"colour": "red"}) == (Settings(), [])
    assert merge_settings(Settings(), None) == (Settings(), [])


def test_reload_needed_only_for_model_affecting_settings() -> None:
    base = Settings()
    assert not base.reload_needed(Settings(max_tokens=10, temperature=0.5))
    assert base.reload_needed(Settings(model="/x.gguf"))
    assert base.reload_needed(Settings(n_ctx=1024))
