"""The answer deadline over LSP: an Automatic request whose budget the prompt already spent
still answers the whole line (not its first word: the prefill was paid for), and asking again
at the spot is answered from the type-ahead cache with no model work. (Prefetch after a cut
answer: tests/e2e/test_typeahead.py and tests/lsp/test_prefetcher.py.)"""

from __future__ import annotations

import ast

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
    # A 1 ms budget is spent before the first token: the prompt overran it.
    await initialize(lsp_client, {"latencyBudgetMs": 1})
    await wait_for_state(lsp_client, "ready")
    yield
    await lsp_client.shutdown_session()


async def test_a_spent_budget_still_answers_the_whole_line(client: LanguageClient) -> None:
    text = SHAPES.read_text()
    uri = SHAPES.as_uri()
    open_document(client, uri, text)
    lines = text.split("\n")
    line = shapes_body_line(lines)

    first = await inline_completion(client, uri, line, 8)
    assert first is not None and first.items
    answer = first.items[0].insert_text
    assert isinstance(answer, str) and answer.strip()
    last = (await status(client))["last"]
    assert last["fromCache"] is False
    assert last["generatedTokens"] >= 3, last  # more than a first word
    assert "\n" not in answer.strip()  # one line
    # The line is sensible code: the file parses with it inserted.
    ast.parse(with_inserted(lines, line, 8, answer))
    assert "radius" in answer, answer

    # Asked again at the spot: answered from the type-ahead cache, no model work.
    again = await inline_completion(client, uri, line, 8)
    assert (await status(client))["last"]["fromCache"] is True
    assert again is not None and again.items
    whole = again.items[0].insert_text
    assert isinstance(whole, str) and whole.startswith(answer.rstrip())
