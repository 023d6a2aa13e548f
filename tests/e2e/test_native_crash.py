"""A native crash in llama.cpp never takes the server down: the real server over stdio, whose
trial load's child really dies of SIGSEGV (the probe's fault switch), falls back to plain weight
buffers, tells the user and answers; when the child dies either way, it stays up and says so."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from smallcode_lsp.engine.local.probe import FAULT_ENV
from tests.e2e.lsp_session import (
    SERVER_COMMAND,
    initialize,
    inline_completion,
    open_document,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e]

URI = "file:///virtual/shapes.py"
TEXT = "import math\n\n\ndef area(radius):\n    "


async def start(tmp_path: Path, fault: str) -> LanguageClient:
    env = {**os.environ, FAULT_ENV: fault, "SMALLCODE_CACHE": str(tmp_path / "cache")}
    client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=env).start()
    # cpuRepack on: the same trial on every CPU (auto keeps AMX CPUs off repacked buffers).
    await initialize(client, {"cpuRepack": "on"})
    return client


async def messages(client: LanguageClient, kind: lsp.MessageType, needle: str) -> list[str]:
    for _ in range(200):  # the message follows the state change
        found = [m.message for m in client.messages if m.type == kind and needle in m.message]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []


async def test_a_crash_in_the_trial_load_falls_back_and_keeps_serving(tmp_path: Path) -> None:
    client = await start(tmp_path, "repack")
    try:
        current = await wait_for_state(client, "ready", "error", timeout=120)
        assert current["state"] == "ready", current
        assert "SIGSEGV" in current["notice"]
        runtime = current["modelInfo"]["runtime"]
        assert runtime["repack"] is False and "crashed" in runtime["repackReason"]
        assert runtime["cpu"]["flags"], runtime
        warnings = await messages(client, lsp.MessageType.Warning, "SIGSEGV")
        assert warnings and "cpuRepack" in warnings[0], client.messages
        open_document(client, URI, TEXT)
        result = await inline_completion(client, URI, 4, 4)
        assert result is not None and result.items and result.items[0].insert_text.strip()
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_model_that_crashes_either_way_leaves_the_server_up(tmp_path: Path) -> None:
    client = await start(tmp_path, "always")
    try:
        current = await wait_for_state(client, "error", "ready", timeout=120)
        assert current["state"] == "error"
        assert "SIGSEGV" in current["error"] and "stays up" in current["error"]
        assert await messages(client, lsp.MessageType.Error, "SIGSEGV")
        open_document(client, URI, TEXT)
        assert await inline_completion(client, URI, 4, 4) is None  # answered, empty
        again = await wait_for_state(client, "error")
        assert again["error"] == current["error"]
    finally:
        await client.shutdown_session()
        await client.stop()
