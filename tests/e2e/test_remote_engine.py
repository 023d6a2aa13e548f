"""The remote engine end to end: the real `smallcode-lsp` over stdio against a real llama-server
(tests/e2e/llama_server.py) with the default model: completions, a cancel that frees the
server's slot, an API key required and honoured, and a server killed mid-request then back.

RawServer (tests/reliability/rpc.py) drives the LSP side: each test needs its own environment
(the key's variable) and the server's stderr (to prove the key is never logged).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.llama_server import LlamaServer, require_binary
from tests.reliability.conftest import FAST, assert_completes
from tests.reliability.rpc import RawServer, inline_params

pytestmark = [pytest.mark.e2e]

KEY_ENV = "SMALLCODE_TEST_ENGINE_KEY"
KEY = "k3y-for-the-remote-engine-tests"
NUMBERS_URI = "file:///virtual/numbers.py"
# Counting on one line: the model keeps going until max tokens, a long generation to cut.
NUMBERS = "numbers = [" + ", ".join(str(i) for i in range(1, 40)) + ", "
OK_URI = "file:///check/ok.py"
OK_TEXT = "def add(a, b):\n    return "
# No answer deadline: a cold engine on a machine loaded by other work may miss the 1 s budget
# and answer empty (what deadlines are for; tested elsewhere).
UNHURRIED = {**FAST, "latencyBudgetMs": 0}
LONG = {
    "maxTokens": 400,
    "latencyBudgetMs": 0,
    "typeahead": False,
    "prefetch": False,
    "shaping": False,
    "context": False,  # short prompts: this machine may be busy with other work
    "invokedItems": 1,
}


@pytest.fixture(scope="module")
def engine(default_model: str) -> Iterator[LlamaServer]:
    require_binary()
    server = LlamaServer(default_model, slots=2)
    yield server
    server.stop()


async def start(tmp_path: Path, options: dict[str, Any], env: dict | None = None) -> RawServer:
    server = await RawServer.start(tmp_path, "--log-level", "DEBUG", env=env)
    await server.initialize(options)
    return server


async def current(server: RawServer) -> dict[str, Any]:
    return (await server.request("smallcode/status", {}))["result"]


def shown_messages(server: RawServer) -> list[str]:
    return [
        n["params"]["message"] for n in server.notifications if n["method"] == "window/showMessage"
    ]


def decoded(engine: LlamaServer, slot: int, key: str | None = None) -> int:
    """Tokens the slot's running task has generated so far."""
    return int(engine.slot(slot, key)["next_token"][0]["n_decoded"])


async def decode_rate(engine: LlamaServer, slot: int, key: str | None = None) -> tuple[int, float]:
    """Tokens decoded so far and tokens/s, measured over at least 0.5 s and one token (a
    machine busy with other work may stall the engine for a moment)."""
    await wait_until(lambda: decoded(engine, slot, key) > 0, 30, "no token generated")
    first, began = decoded(engine, slot, key), time.monotonic()
    await asyncio.sleep(0.5)  # into the 400-token answer: its speed here
    await wait_until(lambda: decoded(engine, slot, key) > first, 30, "the engine stalled")
    done = decoded(engine, slot, key)
    return done, (done - first) / (time.monotonic() - began)


async def wait_until(predicate: Any, timeout: float, what: str) -> float:
    began = time.monotonic()
    while not predicate():
        assert time.monotonic() - began < timeout, what
        await asyncio.sleep(0.01)
    return time.monotonic() - began


async def test_a_completion_through_the_remote_engine(
    tmp_path: Path, engine: LlamaServer, default_model: str
) -> None:
    server = await start(tmp_path, {**UNHURRIED, "engineUrl": engine.url})
    try:
        status = await server.wait_ready()
        assert status["state"] == "ready", server.log_tail()
        assert (status["engine"], status["engineUrl"]) == ("remote", engine.url)
        assert status["modelInfo"]["name"] == Path(default_model).stem
        await assert_completes(server)
        status = await current(server)
        assert status["last"]["promptTokens"] > 0, status
        assert status["error"] is None
    finally:
        assert await server.close() == 0, server.log_tail()


async def long_request_running(
    server: RawServer, engine: LlamaServer, key: str | None = None
) -> Any:
    """Once the server is ready: a long completion request, running in the engine's slot."""
    assert (await server.wait_ready())["state"] == "ready", server.log_tail()
    await server.open(NUMBERS_URI, NUMBERS)
    msg_id = await server.request_nowait(
        "textDocument/inlineCompletion", inline_params(NUMBERS_URI, 0, len(NUMBERS))
    )
    await wait_until(lambda: engine.busy_slots(key), 30, "the engine never started the request")
    return msg_id


async def test_a_cancel_frees_the_engines_slot(tmp_path: Path, engine: LlamaServer) -> None:
    server = await start(tmp_path, {**LONG, "engineUrl": engine.url})
    try:
        msg_id = await long_request_running(server, engine)
        (slot,) = engine.busy_slots()
        done, rate = await decode_rate(engine, slot)
        began = time.monotonic()
        await server.notify("$/cancelRequest", {"id": msg_id})
        response = await server.response(msg_id, timeout=10)
        assert "result" in response or "error" in response
        answered_s = time.monotonic() - began
        left_s = (LONG["maxTokens"] - done) / rate  # what the answer still needed
        freed_s = await wait_until(
            lambda: not engine.busy_slots(), left_s + 10, "the slot ran on after the cancel"
        )
        # Closing the stream stopped the server's slot well before its answer would end (it
        # does not trust our disconnect at once, so the slot runs on for a moment).
        assert freed_s < left_s / 2, (freed_s, left_s)
        assert answered_s < 2.0
        print(
            f"cancel: answered in {answered_s:.2f} s, slot free in {freed_s:.2f} s of {left_s:.1f}"
        )
    finally:
        assert await server.close() == 0, server.log_tail()


@pytest.fixture(scope="module")
def keyed_engine(default_model: str) -> Iterator[LlamaServer]:
    require_binary()
    server = LlamaServer(default_model, slots=1, ctx=2048, extra=("--api-key", KEY))
    yield server
    server.stop()


async def test_an_api_key_is_required_and_honoured(
    tmp_path: Path, keyed_engine: LlamaServer
) -> None:
    options = {**FAST, "engineUrl": keyed_engine.url, "engineApiKeyEnv": KEY_ENV}
    keyed = await start(tmp_path, options, env={KEY_ENV: KEY})
    try:
        status = await keyed.wait_ready()
        assert status["state"] == "ready", keyed.log_tail()
        await assert_completes(keyed)
        status = await current(keyed)
    finally:
        assert await keyed.close() == 0
    # The key travels in the Authorization header only: never in status, messages or logs.
    seen = json.dumps(status) + json.dumps(keyed.notifications) + keyed.log_tail(10**7)
    assert KEY not in seen

    for env, reason in (({}, f"{KEY_ENV} is not set"), ({KEY_ENV: "wrong"}, "refused")):
        refused = await start(tmp_path, options, env=env)
        try:
            status = await refused.wait_ready()
            assert status["state"] == "error", refused.log_tail()
            assert "refused the API key (HTTP 401)" in status["error"]
            assert reason in status["error"]
            assert any("refused the API key" in m for m in shown_messages(refused))
            response = await refused.inline("file:///check/ok.py", 0, 0)
            assert response.get("result") is None  # answered, empty
        finally:
            assert await refused.close() == 0


@pytest.fixture
def fragile_engine(default_model: str) -> Iterator[LlamaServer]:
    require_binary()
    server = LlamaServer(default_model, slots=1, ctx=2048)
    yield server
    server.stop()


async def test_engine_killed_mid_request_then_back(
    tmp_path: Path, fragile_engine: LlamaServer
) -> None:
    engine = fragile_engine
    options = {**LONG, "engineUrl": engine.url}
    server = await start(tmp_path, options)
    try:
        msg_id = await long_request_running(server, engine)
        engine.kill()
        response = await server.response(msg_id, timeout=10)
        assert response.get("result") is None, response  # answered, empty
        status = await current(server)
        assert status["state"] == "error", status
        assert status["error"].startswith(f"engine unreachable at {engine.url}"), status
        assert any("engine unreachable" in m for m in shown_messages(server))

        began = time.monotonic()  # while it is down: answered at once
        response = await server.inline(NUMBERS_URI, 0, len(NUMBERS), timeout=10)
        assert response.get("result") is None
        assert time.monotonic() - began < 2.0

        engine.start()  # back on the same port, its caches empty
        # No request needed: while down, the engine is tried every 2 s.
        while (status := await current(server))["state"] != "ready":
            assert time.monotonic() - began < 60, (status, server.log_tail())
            await asyncio.sleep(0.1)
        assert status["error"] is None
        changes = [
            n["params"]["state"]
            for n in server.notifications
            if n["method"] == "smallcode/statusChanged"
        ]
        assert "error" in changes and changes[-1] == "ready", changes  # the editor was told
        await server.open(OK_URI, OK_TEXT)
        began, items = time.monotonic(), []
        while not items:  # a cold server on a busy machine may miss the timeout once
            assert time.monotonic() - began < 60, (await current(server), server.log_tail())
            response = await server.inline(OK_URI, 1, 11, timeout=30)
            items = (response.get("result") or {}).get("items") or []
        assert items[0]["insertText"].strip()
        status = await current(server)
        assert (status["state"], status["error"]) == ("ready", None), status
    finally:
        assert await server.close() == 0, server.log_tail()
