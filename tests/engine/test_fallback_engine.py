"""FallbackEngine's routing with a real RemoteEngine and a fake in-process engine: an engine
that cannot be reached hands user jobs to the in-process model (loaded once, on the first
fault) and says so; a refused key is an error, not a reason to fall back."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from smallcode_lsp.engine.base import EngineUnavailable
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.fallback import FallbackEngine
from smallcode_lsp.engine.info import LoadOptions, ModelInfo, RemoteOptions
from smallcode_lsp.engine.remote.engine import RemoteEngine
from smallcode_lsp.types import Completion
from tests.e2e.llama_server import free_port
from tests.engine.remote.test_remote_engine_faults import FakeLlamaServer, fake  # noqa: F401
from tests.fake_engine import FakeEngine, model_info


class NoJob:
    def run(self, model: object, cancel: CancelToken) -> list[Completion]:
        return []


class LoadedFake(FakeEngine):
    def load(self, resolve_path, options):  # type: ignore[no-untyped-def]
        future: Future[ModelInfo] = Future()
        future.set_result(model_info(resolve_path()))
        self.loads.append(future)
        return future


def test_an_engine_down_hands_user_jobs_to_the_in_process_model() -> None:
    made: list[LoadedFake] = []

    def make_local() -> LoadedFake:
        made.append(LoadedFake())
        return made[-1]

    remote = RemoteEngine(RemoteOptions(f"http://127.0.0.1:{free_port()}", timeout_ms=500))
    engine = FallbackEngine(remote, make_local)  # type: ignore[arg-type]
    try:
        info = engine.load(lambda: "/models/local.gguf", LoadOptions()).result(10)
        assert info.path == "/models/local.gguf" and len(made) == 1
        status = engine.status()
        assert status.error is None and status.kind == "remote"
        assert status.fallback is not None and "engine unreachable" in status.fallback
        assert status.model == info
        engine.complete(NoJob(), CancelToken())
        assert len(made[0].user_calls) == 1  # answered in process
        probe = engine.complete(NoJob(), CancelToken(), background=True)
        with pytest.raises(EngineUnavailable):  # the probe goes to the engine
            probe.result(10)
        engine.complete(NoJob(), CancelToken())
        assert len(made) == 1 and len(made[0].user_calls) == 2  # loaded once, kept
    finally:
        engine.close()
    assert made[0].closed


def test_a_refused_key_is_no_reason_to_fall_back(
    fake: tuple[str, type[FakeLlamaServer]],  # noqa: F811
) -> None:
    url, handler = fake
    handler.mode = "auth"
    made: list[LoadedFake] = []
    engine = FallbackEngine(RemoteEngine(RemoteOptions(url)), lambda: made.append(LoadedFake()))  # type: ignore[arg-type,func-returns-value]
    try:
        with pytest.raises(Exception, match="refused the API key"):
            engine.load(lambda: "", LoadOptions()).result(10)
        status = engine.status()
        assert status.fallback is None and "refused the API key" in (status.error or "")
        assert made == []
    finally:
        engine.close()
