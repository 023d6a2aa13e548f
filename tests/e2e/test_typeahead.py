"""Type-ahead reuse and prefetch, end to end: typing along a suggestion costs no model work."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp_session import (
    initialize,
    inline_completion,
    insert_text,
    open_document,
    server_config,
    status,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

URI = "file:///virtual/geometry.py"
TEXT = (
    "import math\n\n\n"
    "def circle_area(radius: float) -> float:\n"
    '    """Area of a circle."""\n'
    "    return math.pi * radius ** 2\n\n\n"
    "def circle_circumference(radius: float) -> float:\n"
    '    """Circumference of a circle."""\n'
    "    return "
)
LINE = TEXT.count("\n")
COLUMN = len(TEXT.split("\n")[-1])


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client, {"maxTokens": 24})
    await wait_for_state(lsp_client, "ready")
    open_document(lsp_client, URI, TEXT)
    yield
    await lsp_client.shutdown_session()


async def test_typing_along_is_answered_without_the_model(client: LanguageClient) -> None:
    first = await inline_completion(client, URI, LINE, COLUMN)
    assert first is not None and first.items
    suggestion = first.items[0].insert_text
    assert isinstance(suggestion, str) and len(suggestion) >= 3
    before = await status(client)
    version = 2
    column = COLUMN
    for ch in suggestion[:2]:
        insert_text(client, URI, version, LINE, column, ch)
        version += 1
        column += 1
        result = await inline_completion(client, URI, LINE, column)
        assert result is not None
        assert result.items[0].insert_text == suggestion[column - COLUMN :]
    after = await status(client)
    assert after["fromCache"] - before["fromCache"] == 2
    assert after["last"]["fromCache"] is True
    assert after["last"]["promptTokens"] == 0  # no model work at all

    # Prefetch: once idle, the suggestion after the accepted one is ready in the cache.
    deadline = time.monotonic() + 60
    while (await status(client))["prefetched"] < 1:
        assert time.monotonic() < deadline, "no prefetch happened"
        await asyncio.sleep(0.1)
    insert_text(client, URI, version, LINE, column, suggestion[2:])
    column += len(suggestion) - 2
    following = await inline_completion(client, URI, LINE, column)
    last = (await status(client))["last"]
    assert last["fromCache"] is True
    assert following is not None and following.items[0].insert_text.strip()
