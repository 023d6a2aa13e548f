"""Offline by proof: a full session under an audit hook that blocks and records network access.

Covers the default model path too: with an empty cache the default model is assembled from the
installed chunk packages, under the guard.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import FAST, assert_completes
from tests.reliability.rpc import RawServer

pytestmark = [pytest.mark.e2e]
GUARD = Path(__file__).with_name("offline_guard.py")


def guarded(violations: Path) -> list[str]:
    """The command that runs the server's CLI under the guard."""
    return [sys.executable, str(GUARD), str(violations)]


async def start_guarded(tmp_path: Path, violations: Path, env: dict[str, str]) -> RawServer:
    server = await RawServer.start(tmp_path, launcher=guarded(violations), env=env)
    return server


@pytest.mark.parametrize("cache", ["warm", "empty"])
async def test_full_session_makes_no_network_access(tmp_path: Path, cache: str) -> None:
    violations = tmp_path / "violations.txt"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")} if cache == "empty" else {}
    server = await start_guarded(tmp_path, violations, env)
    try:
        await server.initialize(FAST)  # no model setting: the embedded default model
        status = await server.wait_ready(timeout=300)
        assert status["state"] == "ready", server.log_tail()
        if cache == "empty":
            assert status["model"].startswith(str(tmp_path / "cache")), status["model"]
        await assert_completes(server)
    finally:
        code = await server.close()
    assert code == 0, server.log_tail()
    assert violations.exists(), "the guard did not run"
    assert violations.read_text() == "", violations.read_text()


async def test_the_guard_catches_a_connection_attempt(tmp_path: Path) -> None:
    """The guard is live: a deliberate connect in the wrapped process is recorded."""
    violations = tmp_path / "violations.txt"
    server = await start_guarded(tmp_path, violations, {"OFFLINE_GUARD_SELFTEST": "1"})
    try:
        await server.initialize({**FAST, "model": str(tmp_path / "missing.gguf")})
    finally:
        await server.close()
    assert "socket" in violations.read_text()
