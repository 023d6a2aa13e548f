"""`engineKind: openai` end to end: the real `smallcode-lsp` over stdio against a real
llama-server's OpenAI-compatible `/v1/completions` (tests/e2e/llama_server.py), the default
model (Gemma-3-270M, no FIM tokens: the `none` template, prefix-only prompts). A completion
arrives, a cancel closes the stream and frees the server's slot, a key is honoured, and
`smallcode-lsp model` reports what is served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.llama_server import LlamaServer, require_binary
from tests.e2e.test_remote_engine import (
    KEY,
    KEY_ENV,
    LONG,
    UNHURRIED,
    current,
    decode_rate,
    long_request_running,
    shown_messages,
    start,
    wait_until,
)
from tests.reliability.conftest import FAST, assert_completes

pytestmark = [pytest.mark.e2e]

OPENAI = {"engineKind": "openai"}


@pytest.fixture(scope="module")
def engine(default_model: str) -> Iterator[LlamaServer]:
    require_binary()
    server = LlamaServer(default_model, slots=2, extra=("--api-key", KEY))
    yield server
    server.stop()


async def test_a_completion_through_v1_completions(tmp_path: Path, engine: LlamaServer) -> None:
    options = {**OPENAI, **UNHURRIED, "engineUrl": engine.url + "/v1", "engineApiKeyEnv": KEY_ENV}
    server = await start(tmp_path, options, env={KEY_ENV: KEY})
    try:
        status = await server.wait_ready()
        assert status["state"] == "ready", server.log_tail()
        assert status["engine"] == "remote"
        assert "OpenAI-compatible" in status["modelInfo"]["description"]
        assert status["modelInfo"]["fim"] is False  # Gemma-3-270M: template `none`
        await assert_completes(server)
        status = await current(server)
        assert status["last"]["promptTokens"] > 0 and status["error"] is None, status
        log = server.log_tail(10**7)
        assert "api openai" in log and "tokenizer llama-server" in log, log[-3000:]
    finally:
        assert await server.close() == 0, server.log_tail()
    assert KEY not in json.dumps(status) + server.log_tail(10**7)


async def test_a_cancel_closes_the_stream_and_frees_the_slot(
    tmp_path: Path, engine: LlamaServer
) -> None:
    options = {**OPENAI, **LONG, "engineUrl": engine.url, "engineApiKeyEnv": KEY_ENV}
    server = await start(tmp_path, options, env={KEY_ENV: KEY})
    try:
        msg_id = await long_request_running(server, engine, KEY)
        (slot,) = engine.busy_slots(KEY)
        done, rate = await decode_rate(engine, slot, KEY)
        began = time.monotonic()
        await server.notify("$/cancelRequest", {"id": msg_id})
        response = await server.response(msg_id, timeout=10)
        assert "result" in response or "error" in response
        answered_s = time.monotonic() - began
        left_s = (LONG["maxTokens"] - done) / rate
        freed_s = await wait_until(
            lambda: not engine.busy_slots(KEY), left_s + 10, "the slot ran on after the cancel"
        )
        assert freed_s < left_s / 2, (freed_s, left_s)
        assert answered_s < 2.0
        print(
            f"openai cancel: answered in {answered_s:.2f} s, slot free in {freed_s:.2f} s "
            f"of {left_s:.1f}"
        )
    finally:
        assert await server.close() == 0, server.log_tail()


async def test_a_missing_key_is_explained(tmp_path: Path, engine: LlamaServer) -> None:
    options = {**OPENAI, **FAST, "engineUrl": engine.url, "engineApiKeyEnv": KEY_ENV}
    refused = await start(tmp_path, options, env={})
    try:
        status = await refused.wait_ready()
        assert status["state"] == "error", refused.log_tail()
        assert "refused the API key (HTTP 401)" in status["error"]
        assert f"{KEY_ENV} is not set" in status["error"]
        assert any("refused the API key" in m for m in shown_messages(refused))
        response = await refused.inline("file:///check/ok.py", 0, 0)
        assert response.get("result") is None  # answered, empty
    finally:
        assert await refused.close() == 0


def test_the_model_command_reports_what_is_served(engine: LlamaServer) -> None:
    args = ["model", "--engine-url", engine.url, "--engine-kind", "openai"]
    args += ["--engine-api-key-env", KEY_ENV, "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "smallcode_lsp.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), KEY_ENV: KEY},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["engine"]["api"] == "openai"
    assert report["engine"]["fimTemplate"] == "none"
    assert report["engine"]["tokenizer"] == "llama-server"
    assert report["engine"]["context"] == 2048  # 4096 over 2 slots, from /props
    assert report["fim"] is False
    text = subprocess.run(
        [sys.executable, "-m", "smallcode_lsp.cli", *args[:-1]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), KEY_ENV: KEY},
    )
    assert "OpenAI-compatible /v1/completions" in text.stdout, text.stdout + text.stderr
    assert KEY not in text.stdout + text.stderr


def _env() -> dict[str, str]:
    return dict(os.environ)
