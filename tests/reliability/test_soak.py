"""Soak: a long typing replay with completions and cancellations, on the real server.

Asserts that the server's resident memory and open file descriptors stay bounded and that no
request is left unanswered (each gets a result or a RequestCancelled error).
"""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from tests.reliability.conftest import assert_completes
from tests.reliability.rpc import RawServer, edit

pytestmark = [pytest.mark.e2e]

KEYSTROKES = 2400
COMPLETE_EVERY = 4  # a completion request after every 4th keystroke: 600 requests
CANCEL_EVERY = 3  # of those, every 3rd is also cancelled with $/cancelRequest
SAMPLE_EVERY = 400
SNIPPET = "    total = sum(item.price for item in items)\n    return total * rate\n\n"
RSS_GROWTH_LIMIT = 96 << 20  # after warm-up; a leak of 40 KB per request would exceed it
FD_GROWTH_LIMIT = 4


def sample(proc: psutil.Process) -> tuple[int, int]:
    return proc.memory_info().rss, proc.num_fds()


async def test_soak_bounded_memory_fds_and_all_answered(server: RawServer) -> None:
    proc = psutil.Process(server.proc.pid)
    uri = "file:///soak/typing.py"
    text = "import math\n\n\ndef price(items, rate):\n"
    await server.open(uri, text)
    await assert_completes(server)  # warm-up: model, caches and threads are in place
    line, col = 4, 0
    samples: list[tuple[int, int]] = []
    outcomes = {"result": 0, "cancelled": 0, "items": 0}
    started = time.perf_counter()
    for key in range(KEYSTROKES):
        char = SNIPPET[key % len(SNIPPET)]
        if key % 50 == 49 and col > 0:  # a backspace now and then
            await server.change(uri, key + 2, [edit((line, col - 1), (line, col), "")])
            col -= 1
        else:
            await server.change(uri, key + 2, [edit((line, col), (line, col), char)])
            line, col = (line + 1, 0) if char == "\n" else (line, col + 1)
        if key % COMPLETE_EVERY == 0:
            msg_id = await server.request_nowait(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": line, "character": col},
                    "context": {"triggerKind": 2},
                },
            )
            if key % (COMPLETE_EVERY * CANCEL_EVERY) == 0:
                await asyncio.sleep(0.01)
                await server.notify("$/cancelRequest", {"id": msg_id})
        await asyncio.sleep(0.003)
        if key % SAMPLE_EVERY == SAMPLE_EVERY - 1:
            await server.wait_all_answered(timeout=180)
            samples.append(sample(proc))
    await server.wait_all_answered(timeout=180)
    await asyncio.sleep(0.5)
    samples.append(sample(proc))
    elapsed = time.perf_counter() - started
    for msg_id in server.sent_ids:
        response = server.responses[msg_id]
        if "error" in response:
            assert response["error"]["code"] == -32800, response  # RequestCancelled only
            outcomes["cancelled"] += 1
        else:
            outcomes["result"] += 1
            outcomes["items"] += bool(response["result"] and response["result"].get("items"))
    status = (await server.request("smallcode/status", {}))["result"]
    rss = [s[0] >> 20 for s in samples]
    fds = [s[1] for s in samples]
    print(
        f"\nsoak: {KEYSTROKES} didChange, {len(server.sent_ids)} requests in {elapsed:.0f} s; "
        f"{outcomes}; engine cancelled {status['cancelled']}; RSS MiB {rss}; fds {fds}"
    )
    assert server.unanswered() == []
    assert samples[-1][0] - samples[0][0] < RSS_GROWTH_LIMIT, rss
    assert samples[-1][1] - samples[0][1] <= FD_GROWTH_LIMIT, fds
    await assert_completes(server, "file:///soak/after.py")
