"""The remote engine's settings and flags: engineUrl picks the engine; the key stays a name."""

from __future__ import annotations

import asyncio

from smallcode_lsp.cli import _settings, build_parser
from smallcode_lsp.engine.base import EngineStatus
from smallcode_lsp.engine.fallback import FallbackEngine
from smallcode_lsp.engine.info import RemoteOptions
from smallcode_lsp.engine.local.engine import LocalEngine
from smallcode_lsp.engine.remote.engine import RemoteEngine
from smallcode_lsp.options import EngineSettings, Settings, merge_settings
from smallcode_lsp.service import CompletionService, make_engine
from tests.fake_engine import FakeEngine, model_info


def test_no_engine_url_means_in_process() -> None:
    assert EngineSettings().remote_options("me") is None


def test_engine_settings_from_the_client() -> None:
    payload = {
        "engineUrl": "http://gpu-box:8080",
        "engineApiKeyEnv": "TEAM_ENGINE_KEY",
        "engineTimeoutMs": 2500,
    }
    settings, problems = merge_settings(Settings(), payload)
    assert problems == []
    assert settings.engine.remote_options("me") == RemoteOptions(
        url="http://gpu-box:8080",
        kind="llama-server",
        api_key_env="TEAM_ENGINE_KEY",
        timeout_ms=2500,
        client="me",
    )
    assert Settings().reload_needed(settings)  # another engine: load again


def test_engine_flags() -> None:
    args = build_parser().parse_args(
        ["serve", "--engine-url", "http://127.0.0.1:9", "--engine-kind", "openai"]
    )
    engine = _settings(args).engine
    assert (engine.engine_url, engine.engine_kind) == ("http://127.0.0.1:9", "openai")


def test_make_engine_picks_local_or_remote() -> None:
    local = make_engine(None)
    remote = make_engine(RemoteOptions("http://127.0.0.1:9"))
    try:
        assert isinstance(local, LocalEngine)
        assert isinstance(remote, RemoteEngine)
        status = remote.status()
        assert (status.kind, status.url) == ("remote", "http://127.0.0.1:9")
    finally:
        local.close()
        remote.close()


class FailingEngine(FakeEngine):
    """A fake engine whose status reports a remote fault."""

    error: str | None = None

    def status(self) -> EngineStatus:
        return EngineStatus(error=self.error, kind="remote", url="http://x")


def test_service_follows_the_engine_status_and_tells_the_user_once() -> None:
    engine = FailingEngine()
    messages: list[str] = []
    service = CompletionService(Settings(), engine, on_error=messages.append)
    service.status.state = "ready"
    engine.error = "engine unreachable at http://x: refused"
    service._follow_engine()
    service._follow_engine()
    assert service.status.state == "error"
    assert messages == ["SmallCode: engine unreachable at http://x: refused"]
    assert service.status_dict()["engine"] == "remote"
    engine.error = None
    service._follow_engine()  # no model known yet: stays in error
    assert service.status.state == "error"


class RecoveredEngine(FakeEngine):
    def status(self) -> EngineStatus:
        return EngineStatus(model=model_info(), kind="remote", url="http://x")


def test_service_clears_the_error_when_the_engine_is_back() -> None:
    service = CompletionService(Settings(), RecoveredEngine())
    service.status.state, service.status.error = "ready", "engine unreachable at http://x"
    service._follow_engine()
    assert (service.status.state, service.status.error) == ("ready", None)
    assert service.status.model == model_info()


def test_the_service_switches_engines_at_load_when_the_settings_ask() -> None:
    first = FakeEngine()
    made: list[RemoteOptions | None] = []

    def choose(remote: RemoteOptions | None) -> FakeEngine:
        made.append(remote)
        return FakeEngine()

    async def scenario() -> None:
        service = CompletionService(Settings(), first, choose_engine=choose)
        service.load_model()
        assert made == [] and service.engine is first  # in-process, as it was made
        remote, _ = merge_settings(Settings(), {"engineUrl": "http://gpu-box:8080"})
        assert service.update_settings(remote)
        service.start_index([])
        service.load_model()
        assert first.closed
        assert made and made[0] is not None and made[0].url == "http://gpu-box:8080"
        assert service.engine is not first and service.scheduler._engine is service.engine
        service.close()

    asyncio.run(scenario())


def test_openai_fallback_and_tls_settings() -> None:
    payload = {
        "engineUrl": "https://gpu-box:8000/v1",
        "engineKind": "openai",
        "engineModel": "Qwen/Qwen2.5-Coder-7B",
        "engineFimTemplate": "qwen",
        "engineFallback": True,
        "engineCaFile": "~/team-ca.pem",
    }
    settings, problems = merge_settings(Settings(), payload)
    assert problems == []
    remote = settings.engine.remote_options("me")
    assert remote is not None
    assert (remote.kind, remote.model, remote.fim_template) == (
        "openai",
        "Qwen/Qwen2.5-Coder-7B",
        "qwen",
    )
    assert remote.fallback and remote.ca_file == "~/team-ca.pem"
    engine = make_engine(remote)
    try:
        assert isinstance(engine, FallbackEngine) and engine.status().kind == "remote"
    finally:
        engine.close()


def test_an_unknown_engine_kind_is_refused_and_the_old_one_kept() -> None:
    settings, problems = merge_settings(Settings(), {"engineKind": "tgi"})
    assert settings.engine.engine_kind is None
    assert problems == [
        "setting smallcode.engineKind='tgi' ignored: expected one of llama-server, openai"
    ]


def test_new_engine_flags() -> None:
    args = build_parser().parse_args(
        [
            "model",
            *("--engine-url", "http://h:8000", "--engine-kind", "openai"),
            *("--engine-model", "m", "--engine-fim-template", "{prefix}<X>{suffix}"),
            *("--engine-api-key-env", "K", "--engine-ca-file", "/ca.pem"),
        ]
    )
    engine = _settings(args).engine
    assert (engine.engine_model, engine.engine_fim_template) == ("m", "{prefix}<X>{suffix}")
    assert (engine.engine_api_key_env, engine.engine_ca_file) == ("K", "/ca.pem")
