"""KV-cache prefix reuse: after a one-character edit only a few prompt tokens are evaluated."""

from __future__ import annotations

import inspect
import json

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


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    # No latency budget: full-size prompts (cold-spot sizing has its own test, test_cold_spot).
    options = {"maxTokens": 16, "typeahead": False, "prefetch": False, "latencyBudgetMs": 0}
    await initialize(lsp_client, options)
    await wait_for_state(lsp_client, "ready")
    yield
    await lsp_client.shutdown_session()


async def test_one_character_edit_reevaluates_few_tokens(client: LanguageClient) -> None:
    source = inspect.getsource(json.decoder)  # a real module of the standard library
    uri = "file:///virtual/decoder.py"
    lines = source.split("\n")
    line = next(i for i, text_line in enumerate(lines) if text_line.startswith("class JSONDecoder"))
    text = "\n".join(lines[:line]) + "\n"
    open_document(client, uri, text)
    cursor_line = line
    await inline_completion(client, uri, cursor_line, 0)
    first = (await status(client))["last"]
    assert first["promptTokens"] > 300
    assert first["promptTokensEvaluated"] == first["promptTokens"]  # cold cache

    version = 2
    typed = ""
    for ch in "cla":
        insert_text(client, uri, version, cursor_line, len(typed), ch)
        typed += ch
        version += 1
        await inline_completion(client, uri, cursor_line, len(typed))
        last = (await status(client))["last"]
        print(f"typed {typed!r}: {last['promptTokensEvaluated']} of {last['promptTokens']}")
        assert last["promptTokensReused"] >= last["promptTokens"] - 4
        assert last["promptTokensEvaluated"] <= 4
