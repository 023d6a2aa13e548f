"""Big and strange files through the real server: bounded time, no crash, placed correctly.

10 MB of Python, 2 MB of minified one-line JS, binary content with NUL bytes, CRLF, mixed
encodings. Bounds are generous (a shared, contended 2-core machine); before the document window
a completion in a 1 MB file took ~20 s of tokenizing alone and a 10 MB one did not finish.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.big_files import KINDS, end_position, middle_position
from tests.reliability.conftest import FAST, assert_completes
from tests.reliability.rpc import RawServer, edit

pytestmark = [pytest.mark.e2e]

CASES = [  # kind, size in chars
    ("python", 10_000_000),
    ("minified-js", 2_000_000),
    ("binary-nul", 200_000),
    ("python-crlf", 300_000),
    ("mixed", 300_000),
]
CHANGE_BOUND_S = 5.0  # one keystroke's didChange, applied (status round trip)
COMPLETE_BOUND_S = 60.0  # prefill dominates: ~500 tokens on a busy CPU


async def test_big_and_strange_files(tmp_path: Path, default_model: str) -> None:
    # A small context keeps the prefill (size-independent) from dominating on a busy CPU.
    server = await RawServer.start(tmp_path)
    try:
        await server.initialize({**FAST, "model": default_model, "nCtx": 512})
        assert (await server.wait_ready())["state"] == "ready", server.log_tail()
        await run_cases(server)
    finally:
        await server.close()


async def run_cases(server: RawServer) -> None:
    timings = []
    for kind, size in CASES:
        text = KINDS[kind](size)
        uri = f"file:///big/{kind}.txt"
        started = time.perf_counter()
        await server.open(uri, text, "javascript" if kind == "minified-js" else "python")
        await server.request("smallcode/status", {}, timeout=120)
        open_s = time.perf_counter() - started
        line, character = middle_position(text)
        started = time.perf_counter()
        for n in range(3):
            change = edit((line, character + n), (line, character + n), "x")
            await server.change(uri, n + 2, [change])
        await server.request("smallcode/status", {}, timeout=120)
        change_s = (time.perf_counter() - started) / 3
        assert change_s < CHANGE_BOUND_S, (kind, change_s)
        for position in [(line, character + 3), end_position(text)]:
            started = time.perf_counter()
            response = await server.inline(uri, *position, timeout=COMPLETE_BOUND_S * 2)
            complete_s = time.perf_counter() - started
            assert "result" in response, (kind, response)
            assert complete_s < COMPLETE_BOUND_S, (kind, complete_s)
            for item in (response["result"] or {}).get("items", []):
                got = item["range"]["start"]
                assert (got["line"], got["character"]) == position, (kind, item)
            timings.append((kind, size, open_s, change_s, complete_s))
        await server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    for kind, size, open_s, change_s, complete_s in timings:
        print(
            f"\n{kind:<12} {size:>10} chars: open {open_s * 1000:.0f} ms, "
            f"didChange {change_s * 1000:.0f} ms, completion {complete_s * 1000:.0f} ms",
            end="",
        )
    assert server.proc.returncode is None
    await assert_completes(server)
