"""Token-level cancellation: $/cancelRequest and a newer request both stop the engine at once."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio
import pytest_lsp
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from tests.e2e.lsp_session import (
    cancel_request,
    initialize,
    inline_completion,
    open_document,
    send_inline_request,
    server_config,
    status,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

URI = "file:///virtual/numbers.py"
# Counting on one line: the model keeps going until max tokens, a long, predictable generation.
TEXT = "numbers = [" + ", ".join(str(i) for i in range(1, 40)) + ", "
MAX_TOKENS = 160


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    # Type-ahead and prefetch off: the test repeats one request and wants the model to work.
    await initialize(
        lsp_client,
        {
            "maxTokens": MAX_TOKENS,
            "latencyBudgetMs": 0,
            "typeahead": False,
            "prefetch": False,
            "shaping": False,
        },
    )
    await wait_for_state(lsp_client, "ready")
    open_document(lsp_client, URI, TEXT)
    yield
    await lsp_client.shutdown_session()


async def wait_engine_idle(client: LanguageClient, timeout: float = 30) -> float:
    start = time.perf_counter()
    while not (await status(client))["engineIdle"]:
        assert time.perf_counter() - start < timeout, "engine never went idle"
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def full_generation_seconds(client: LanguageClient) -> float:
    """Time of the uncancelled generation (prompt already cached after the first run)."""
    await inline_completion(client, URI, 0, len(TEXT))  # warm the KV cache
    start = time.perf_counter()
    result = await inline_completion(client, URI, 0, len(TEXT))
    elapsed = time.perf_counter() - start
    last = (await status(client))["last"]
    assert result is not None
    assert last["generatedTokens"] >= MAX_TOKENS * 3 // 4, last  # it really is long
    return elapsed


async def test_cancel_request_stops_generation_within_a_token(
    client: LanguageClient, full_generation_seconds: float
) -> None:
    msg_id, future = send_inline_request(client, URI, 0, len(TEXT))
    await asyncio.sleep(full_generation_seconds / 5)
    assert not future.done()
    cancel_request(client, msg_id)
    idle_after = await wait_engine_idle(client)
    with pytest.raises(JsonRpcRequestCancelled):
        await future
    print(f"full {full_generation_seconds * 1000:.0f} ms, cancel->idle {idle_after * 1000:.1f} ms")
    assert idle_after < full_generation_seconds / 4


async def test_newer_request_replaces_the_running_one(
    client: LanguageClient, full_generation_seconds: float
) -> None:
    _, first = send_inline_request(client, URI, 0, len(TEXT))
    await asyncio.sleep(full_generation_seconds / 5)
    started = time.perf_counter()
    _, second = send_inline_request(client, URI, 0, len(TEXT))
    assert await first is None  # the stale request answers empty, at once
    replaced_after = time.perf_counter() - started
    result = await second
    assert result is not None and result.items
    assert replaced_after < full_generation_seconds / 4
    assert (await status(client))["cancelled"] >= 1
