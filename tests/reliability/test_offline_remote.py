"""Private with a remote engine too: under the audit-hook guard, a session through a real
llama-server reaches that one configured address and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.llama_server import LlamaServer, require_binary
from tests.reliability.conftest import FAST, assert_completes
from tests.reliability.test_offline import start_guarded

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def engine(default_model: str) -> Iterator[LlamaServer]:
    require_binary()
    server = LlamaServer(default_model, slots=1, ctx=2048)
    yield server
    server.stop()


async def test_the_only_socket_goes_to_the_configured_engine(
    tmp_path: Path, engine: LlamaServer
) -> None:
    violations = tmp_path / "violations.txt"
    env = {
        "OFFLINE_GUARD_ALLOW": f"127.0.0.1:{engine.port}",
        "OFFLINE_GUARD_SELFTEST": "1",  # a connect elsewhere, which must still be caught
    }
    server = await start_guarded(tmp_path, violations, env)
    try:
        await server.initialize({**FAST, "engineUrl": engine.url})
        status = await server.wait_ready(timeout=120)
        assert (status["state"], status["engine"]) == ("ready", "remote"), server.log_tail()
        await assert_completes(server)
    finally:
        code = await server.close()
    assert code == 0, server.log_tail()
    lines = violations.read_text().splitlines()
    assert len(lines) == 1, lines  # the self-test's attempt, nothing from the session
    assert "'127.0.0.1', 9" in lines[0]
