"""The server makes its engine at the first load, as the settings then say: with `engineUrl`
set at initialize no in-process engine (a thread, later a model) is ever constructed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from smallcode_lsp.engine.info import ModelLoadError
from smallcode_lsp.engine.local.engine import LocalEngine
from smallcode_lsp.engine.remote.engine import RemoteEngine
from smallcode_lsp.options import Settings, merge_settings
from smallcode_lsp.server import SmallcodeServer

UNREACHABLE = "http://127.0.0.1:9"  # discard port: refused at once, no network needed


@pytest.fixture
def local_engines(monkeypatch: pytest.MonkeyPatch) -> list[LocalEngine]:
    """Every LocalEngine constructed while the test runs."""
    made: list[LocalEngine] = []
    original = LocalEngine.__init__

    def init(self: LocalEngine) -> None:
        made.append(self)
        original(self)

    monkeypatch.setattr(LocalEngine, "__init__", init)
    return made


def _load(payload: dict[str, object]) -> SmallcodeServer:
    """A server without an engine, given `payload` as initialize would, and its first load."""
    server = SmallcodeServer(Settings())
    service = server.service

    async def scenario() -> None:
        settings, problems = merge_settings(service.settings, payload)
        assert problems == []
        service.update_settings(settings)
        service.start_index([])
        with pytest.raises(ModelLoadError):
            await asyncio.wait_for(service.load_model(), timeout=30)

    try:
        asyncio.run(scenario())
    finally:
        service.close()
    return server


def test_no_engine_thread_before_the_first_load(local_engines: list[LocalEngine]) -> None:
    before = {t.name for t in threading.enumerate()}
    server = SmallcodeServer(Settings())
    assert local_engines == []
    assert server.service.status_dict()["engine"] == "local"  # answered without an engine
    assert {t.name for t in threading.enumerate()} == before
    server.service.close()


def test_a_remote_engine_never_constructs_a_local_engine(
    local_engines: list[LocalEngine],
) -> None:
    server = _load({"engineUrl": UNREACHABLE, "engineTimeoutMs": 2000})
    assert isinstance(server.service.engine, RemoteEngine)
    assert server.service.scheduler._engine is server.service.engine
    assert local_engines == []


def test_in_process_settings_make_one_local_engine(
    local_engines: list[LocalEngine], tmp_path: Path
) -> None:
    server = _load({"model": f"{tmp_path}/missing.gguf"})  # fails fast: no such file
    assert local_engines == [server.service.engine]
