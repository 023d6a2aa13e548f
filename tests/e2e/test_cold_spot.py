"""A cold spot in a large real file, over LSP with the real model: the first Automatic request
answers from a prompt its time budget pays for, with the rest of the line (not one token),
and an Invoked request at the same spot reuses that prompt instead of evaluating another."""

from __future__ import annotations

import _pydecimal
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp_session import (
    initialize,
    inline_completion,
    open_document,
    server_config,
    status,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BIG = Path(_pydecimal.__file__)  # ~230 KB of real, unmodified standard-library code


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client, {"latencyBudgetMs": 1000})
    await wait_for_state(lsp_client, "ready", timeout=120)
    yield
    await lsp_client.shutdown_session()


def spot(lines: list[str]) -> tuple[int, int]:
    """A `return` line halfway through the file, cursor after `return `."""
    start = len(lines) // 2
    line = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("return "))
    return line, lines[line].index("return ") + len("return ")


async def test_cold_automatic_request_answers_the_line_and_invoked_reuses_its_prompt(
    client: LanguageClient,
) -> None:
    text = BIG.read_text()
    assert len(text) > 100_000
    lines = text.split("\n")
    line, column = spot(lines)
    # The user cut the rest of the line and asks at its end: a spot no cache has seen.
    cut = "\n".join([*lines[:line], lines[line][:column], *lines[line + 1 :]])
    uri = BIG.as_uri()
    open_document(client, uri, cut)

    first = await inline_completion(client, uri, line, column)
    automatic = (await status(client))["last"]
    assert first is not None and first.items, automatic
    answer = first.items[0].insert_text
    assert isinstance(answer, str) and answer.strip()
    # Sized to the budget: not the full 2k-token prompt a 230 KB file would fill.
    assert automatic["promptShrunk"] is True
    assert automatic["promptTokens"] < 1500
    # At least the rest of the line: one line, and more than its first token.
    assert "\n" not in answer.strip()
    assert automatic["generatedTokens"] >= 2

    again = await inline_completion(
        client, uri, line, column, lsp.InlineCompletionTriggerKind.Invoked
    )
    invoked = (await status(client))["last"]
    assert again is not None and again.items
    # One prompt front per spot: the Invoked request decodes only what is not cached.
    assert invoked["promptTokensEvaluated"] <= 8, invoked
    # Greedy decoding from the same prompt: the Automatic answer was the whole line.
    whole = again.items[0].insert_text
    assert isinstance(whole, str)
    assert whole.split("\n", 1)[0].rstrip() == answer.rstrip()
