from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.reliability.rpc import RawServer

FAST = {"maxTokens": 12, "invokedItems": 1}  # 4 tokens: a cut line is dropped


@pytest.fixture
async def server(tmp_path: Path, default_model: str) -> AsyncIterator[RawServer]:
    """A real server with the real model, initialized and ready; closed after the test."""
    raw = await RawServer.start(tmp_path)
    try:
        await raw.initialize({**FAST, "model": default_model})
        assert (await raw.wait_ready())["state"] == "ready", raw.log_tail()
        yield raw
    finally:
        await raw.close()


async def assert_completes(server: RawServer, uri: str = "file:///check/ok.py") -> None:
    """The server still produces a non-empty, correctly placed completion."""
    await server.open(uri, "def add(a, b):\n    return ")
    response = await server.inline(uri, 1, 11)
    assert "result" in response, response
    items = (response["result"] or {}).get("items") or []
    assert items and items[0]["insertText"], response
    assert items[0]["range"]["start"] == {"line": 1, "character": 11}
