"""`engineFallback` end to end: the real `smallcode-lsp` over stdio with a real llama-server
(tests/e2e/llama_server.py). The server killed: completions still arrive, from the
in-process default model (loaded then), and the status says so; the server back: the probe
returns the status to `ready` and completions come from the engine again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.llama_server import LlamaServer, require_binary
from tests.e2e.test_remote_engine import OK_TEXT, current, shown_messages, start
from tests.reliability.conftest import FAST
from tests.reliability.rpc import RawServer

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def engine(default_model: str) -> Iterator[LlamaServer]:
    require_binary()
    server = LlamaServer(default_model, slots=1, ctx=2048)
    yield server
    server.stop()


def served(engine: LlamaServer) -> bool:
    """Whether the llama-server has run a completion since it started (a slot had a task)."""
    return any("id_task" in slot for slot in engine.get("/slots"))


async def completion(server: RawServer, name: str, timeout: float = 90) -> list[dict[str, Any]]:
    """Items for a new document (not an answer the type-ahead cache holds) at the end of
    OK_TEXT (a cold model on a busy machine may miss a deadline once)."""
    uri = f"file:///check/{name}.py"
    await server.open(uri, OK_TEXT)
    began, items = time.monotonic(), []
    while not items:
        assert time.monotonic() - began < timeout, (await current(server), server.log_tail())
        response = await server.inline(uri, 1, 11, timeout=60)
        assert "result" in response, response
        items = (response.get("result") or {}).get("items") or []
    return items


async def test_engine_down_then_back_with_the_fallback(tmp_path: Path, engine: LlamaServer) -> None:
    server = await start(tmp_path, {**FAST, "engineUrl": engine.url, "engineFallback": True})
    try:
        status = await server.wait_ready()
        assert (status["state"], status["engineServing"]) == ("ready", "remote"), status
        await completion(server, "first")
        assert served(engine)  # the engine answered

        engine.kill()
        items = await completion(server, "down")  # the engine is gone: the in-process model answers
        assert items[0]["insertText"].strip()
        status = await current(server)
        assert status["state"] == "fallback", status
        assert (status["engine"], status["engineServing"]) == ("remote", "local"), status
        assert status["error"].startswith(f"engine unreachable at {engine.url}"), status
        assert "answering from the in-process model" in status["error"], status
        assert status["modelInfo"]["name"], status
        assert any("answering from the in-process model" in m for m in shown_messages(server))

        engine.start()  # back on the same port: the probe finds it, no request needed
        assert not served(engine)
        began = time.monotonic()
        while (status := await current(server))["state"] != "ready":
            assert time.monotonic() - began < 60, (status, server.log_tail())
            await asyncio.sleep(0.1)
        assert (status["error"], status["engineServing"]) == (None, "remote"), status
        items = await completion(server, "back")
        assert items[0]["insertText"].strip()
        assert served(engine)  # the restarted engine answered it
    finally:
        assert await server.close() == 0, server.log_tail()


async def test_engine_down_at_start_with_the_fallback(tmp_path: Path) -> None:
    require_binary()
    from tests.e2e.llama_server import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = await start(tmp_path, {**FAST, "engineUrl": url, "engineFallback": True})
    try:
        status = await server.wait_ready()
        while status["state"] != "fallback":  # ready with the in-process model, then told
            status = await current(server)
            await asyncio.sleep(0.1)
        assert status["engineServing"] == "local" and "unreachable" in status["error"], status
        assert (await completion(server, "local"))[0]["insertText"].strip()
    finally:
        assert await server.close() == 0, server.log_tail()
