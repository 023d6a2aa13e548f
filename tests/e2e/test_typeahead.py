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

URI = "file:///virtual/operations.py"
TEXT = (
    "import operator\n\n"
    "OPERATIONS = {\n"
    '    "add": operator.add,\n'
    '    "sub": operator.sub,\n'
    '    "mul": '
)
LINE = TEXT.count("\n")
COLUMN = len(TEXT.split("\n")[-1])


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    # No answer deadline: on a slow machine it could cut the first answer mid-line, and the
    # prefetch would then continue that line instead of predicting the next (checked below).
    await initialize(lsp_client, {"maxTokens": 24, "latencyBudgetMs": 0})
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
    deadline = time.monotonic() + 180
    while (await status(client))["prefetched"] < 1:
        assert time.monotonic() < deadline, "no prefetch happened"
        await asyncio.sleep(0.1)
    insert_text(client, URI, version, LINE, column, suggestion[2:])
    column += len(suggestion) - 2
    following = await inline_completion(client, URI, LINE, column)
    last = (await status(client))["last"]
    assert last["fromCache"] is True
    assert following is not None and following.items[0].insert_text.strip()
    assert following.items[0].insert_text.startswith("\n")  # the next line, after Enter

    # Pressing Enter (the editor inserts the newline and indent) types along it too.
    upcoming = following.items[0].insert_text
    lead = upcoming[: len(upcoming) - len(upcoming[1:].lstrip(" "))]  # "\n" + the indent
    insert_text(client, URI, version + 1, LINE, column, lead)
    after_enter = await inline_completion(client, URI, LINE + 1, len(lead) - 1)
    assert (await status(client))["last"]["fromCache"] is True
    assert after_enter is not None
    assert lead + after_enter.items[0].insert_text == following.items[0].insert_text
