"""The spot the cursor rests on is prefilled before the first keystroke there, over LSP with the
real model in a large real file: after `smallcode/didMoveCursor` and a dwell, the first key's
request evaluates only the tokens it changed; without the notification (the control spot) the
same kind of request evaluates its whole small prompt. `textDocument/didFocus` warms the spot
last seen in that file; a keystroke preempts a running warm-up."""

from __future__ import annotations

import _pydecimal
import asyncio
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
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

BIG = Path(_pydecimal.__file__)  # ~230 KB of real, unmodified standard-library code
URI = BIG.as_uri()


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    # Type-ahead off: the first key's own request is what these tests read (the last test
    # turns it on to see the answer made at rest).
    await initialize(lsp_client, {"latencyBudgetMs": 1000, "prefetch": False, "typeahead": False})
    await wait_for_state(lsp_client, "ready", timeout=120)
    open_document(lsp_client, URI, BIG.read_text())
    yield
    await lsp_client.shutdown_session()


def return_lines(lines: list[str]) -> list[int]:
    """`return` lines at spread-out places (each a new spot: far from the others)."""
    found = [i for i, text in enumerate(lines) if text.strip().startswith("return ")]
    return [found[len(found) * k // 6] for k in (1, 2, 3, 4)]


def move_cursor(client: LanguageClient, line: int, character: int) -> None:
    client.protocol.notify(
        "smallcode/didMoveCursor",
        {"textDocument": {"uri": URI}, "position": {"line": line, "character": character}},
    )


async def background_idle(client: LanguageClient, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = await status(client)
        if current["engineBackgroundIdle"] and current["engineIdle"]:
            return current
        assert time.monotonic() < deadline, "background work never ended"
        await asyncio.sleep(0.05)


async def first_key(client: LanguageClient, version: int, line: int, column: int) -> dict:
    """Type one character at (line, column) and ask: that request's stats."""
    insert_text(client, URI, version, line, column, " ")
    result = await inline_completion(client, URI, line, column + 1)
    last = (await status(client))["last"]
    assert result is None or result.items is not None
    return last


async def test_a_resting_cursor_is_prefilled_before_the_first_key(client: LanguageClient) -> None:
    lines = BIG.read_text().split("\n")
    spots = return_lines(lines)
    version = 1
    # Control: the first key at a spot nothing warmed evaluates its whole (small) prompt.
    line = spots[0]
    column = len(lines[line])
    version += 1
    cold = await first_key(client, version, line, column)
    assert cold["promptTokensEvaluated"] >= 100, cold
    await background_idle(client)

    # Rest at another spot: the warm-up runs while nobody types, the first key pays ~nothing.
    line = spots[1]
    column = len(lines[line])
    before = await status(client)
    move_cursor(client, line, column)
    await asyncio.sleep(0.3)  # past the rest delay
    warmed = await background_idle(client)
    assert warmed["warmStarted"] == before["warmStarted"] + 1
    assert warmed["promptTokensEvaluated"] - before["promptTokensEvaluated"] >= 100
    version += 1
    warm = await first_key(client, version, line, column)
    assert warm["promptTokensEvaluated"] <= 8, warm
    assert warm["promptTokens"] >= cold["promptTokens"], (warm, cold)


async def test_a_keystroke_preempts_a_running_warm_up(client: LanguageClient) -> None:
    lines = BIG.read_text().split("\n")
    line = return_lines(lines)[2]
    column = len(lines[line])
    before = await status(client)
    move_cursor(client, line, column)
    await asyncio.sleep(0.25)  # the warm-up has started (its full prompt takes seconds)
    current = await status(client)
    assert not current["engineBackgroundIdle"], current
    assert current["warmStarted"] == before["warmStarted"] + 1
    answered = await first_key(client, 100, line, column)
    after = await background_idle(client)
    # Counted, not timed: had the warm-up run on, it would have evaluated its small prompt and
    # then the ~2,000-token full one; preempted, the engine did far less in all.
    spent = after["promptTokensEvaluated"] - before["promptTokensEvaluated"]
    assert spent < answered["promptTokens"] + 1000, (spent, answered)


async def test_did_focus_warms_the_spot_last_seen_in_the_file(client: LanguageClient) -> None:
    lines = BIG.read_text().split("\n")
    line = return_lines(lines)[3]
    column = len(lines[line])
    move_cursor(client, line, column)
    await asyncio.sleep(0.01)
    move_cursor(client, 0, 0)  # moved on before the rest delay: only the last spot warms
    await asyncio.sleep(0.3)
    await background_idle(client)
    before = await status(client)
    client.protocol.notify("textDocument/didFocus", {"textDocument": {"uri": URI}})
    await asyncio.sleep(0.3)
    after = await background_idle(client)
    assert after["warmStarted"] == before["warmStarted"], "the same spot again: already warm"
    move_cursor(client, line, column)
    await asyncio.sleep(0.3)
    again = await background_idle(client)
    assert again["warmStarted"] == after["warmStarted"] + 1
    client.protocol.notify("textDocument/didFocus", {"textDocument": {"uri": URI}})
    await asyncio.sleep(0.3)
    assert (await background_idle(client))["warmStarted"] == again["warmStarted"]


async def test_the_answer_made_at_rest_is_ready_for_the_first_request(
    client: LanguageClient,
) -> None:
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"smallcode": {"typeahead": True}})
    )
    lines = BIG.read_text().split("\n")
    after = return_lines(lines)[3]  # untouched by the tests above
    indent = lines[after][: len(lines[after]) - len(lines[after].lstrip())]
    typed = f"\n{indent}return self."  # a fresh line the model surely continues
    insert_text(client, URI, 200, after, len(lines[after]), typed)
    line, column = after + 1, len(typed) - 1
    move_cursor(client, line, column)
    await asyncio.sleep(0.3)
    await background_idle(client)
    result = await inline_completion(client, URI, line, column)
    answered = (await status(client))["last"]
    assert result is not None and result.items, answered
    assert answered["fromCache"], answered  # made while the cursor rested: no model work now
