"""The answer deadline over LSP: an Automatic request whose budget is spent answers with the
first words the model has, and the background prefetch completes that same line, so asking
again (or typing along) shows the whole line with no model work."""

from __future__ import annotations

import ast
import asyncio
import time

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp_session import (
    SHAPES,
    initialize,
    inline_completion,
    open_document,
    server_config,
    shapes_body_line,
    status,
    wait_for_state,
    with_inserted,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    # A 1 ms budget is spent before the first token: the answer is cut at the first words.
    await initialize(lsp_client, {"latencyBudgetMs": 1})
    await wait_for_state(lsp_client, "ready")
    yield
    await lsp_client.shutdown_session()


async def test_a_cut_short_answer_is_completed_by_the_prefetch(client: LanguageClient) -> None:
    text = SHAPES.read_text()
    uri = SHAPES.as_uri()
    open_document(client, uri, text)
    lines = text.split("\n")
    line = shapes_body_line(lines)

    first = await inline_completion(client, uri, line, 8)
    assert first is not None and first.items
    start = first.items[0].insert_text
    assert isinstance(start, str) and start.strip()
    last = (await status(client))["last"]
    assert last["stopReason"] == "deadline" and last["fromCache"] is False
    assert "\n" not in start.strip()  # a start of one line

    deadline = time.monotonic() + 120
    while (await status(client))["prefetched"] < 1:
        assert time.monotonic() < deadline, "no prefetch happened"
        await asyncio.sleep(0.1)

    again = await inline_completion(client, uri, line, 8)
    assert (await status(client))["last"]["fromCache"] is True  # no model work
    assert again is not None and again.items
    whole = again.items[0].insert_text
    assert isinstance(whole, str)
    assert whole.startswith(start) and len(whole.strip()) > len(start.strip())
    # The completed line is sensible code: the file parses with it inserted.
    ast.parse(with_inserted(lines, line, 8, whole))
    assert "radius" in whole, whole
