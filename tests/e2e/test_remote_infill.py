"""The remote engine against a real llama-server serving a FIM model: `/infill` end to end, and
the slot's prompt cache reused from keystroke to keystroke.

No FIM-capable GGUF ships with the project, so one is built: quantize/tiny.py's random
Qwen3-MoE checkpoint (a byte-level BPE vocab with `<|fim_prefix|>`, `<|repo_name|>`, ...)
converted to GGUF once per test session (tests/quantize/tiny_models.py, ~10 s). Its weights
are random: the answers are noise, so the tests check the protocol, the bounds, cancellation
and the cache, never the text. llama-server writes every prompt it evaluates as token ids to
`--log-prompts-dir`: that is what proves which prompt it built.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.llama_server import LlamaServer, require_binary
from tests.reliability.rpc import RawServer, edit, inline_params

pytestmark = [pytest.mark.e2e]

CTX = 4096
# The tiny checkpoint's config says 256 positions: the slot would be capped to that (and
# /infill drops `input_extra` unless the slot holds more than a batch). Rope does not care.
# The default batch (-b 2048) matters for /infill: the server keeps at most 3/4 of a batch of
# the prefix, cut from the front (a window moving with every keystroke beyond that).
SERVER_ARGS = ("--override-kv", f"qwen3moe.context_length=int:{CTX}", "--metrics")
HELPERS_URI = "file:///virtual/helpers.py"
HELPERS = "def scale(values, factor):\n    return [v * factor for v in values]\n"
MAIN_URI = "file:///virtual/main.py"
# Forty small functions before the cursor: most of the prompt is stable prefix, as in real code.
FUNCTIONS = "".join(f"def f{i}(x):\n    return x * {i} + {i * 7}\n\n\n" for i in range(40))
MAIN = FUNCTIONS + (
    "import helpers\n\n\ndef total(items):\n    result = 0\n    for item in items:\n"
    "        result += item\n    return result\n\n\ndef mean(items):\n    \n\n"
    "def spread(items):\n    return max(items) - min(items)\n"
)
LINE, COL = (
    FUNCTIONS.count("\n") + 11,
    4,
)  # inside mean(): the cursor, with code below it (a FIM suffix)
OPTIONS = {
    "maxTokens": 8,
    "invokedItems": 1,
    "typeahead": False,
    "prefetch": False,
    "latencyBudgetMs": 0,
}


@pytest.fixture(scope="module")
def fim_engine(
    gguf_file: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LlamaServer, Path]]:
    require_binary()
    model = gguf_file("qwen3moe", "F16")
    prompts = tmp_path_factory.mktemp("prompts")
    extra = (*SERVER_ARGS, "--log-prompts-dir", str(prompts))
    server = LlamaServer(str(model), slots=1, ctx=CTX, extra=extra)
    yield server, prompts
    server.stop()


def post(engine: LlamaServer, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{engine.url}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def logged_prompts(prompts: Path) -> list[list[int]]:
    """The token lists llama-server evaluated, oldest first (text prompts, the warm-up at
    connect, are logged as text: skipped)."""
    files = sorted(prompts.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    texts = [p.read_text() for p in files]
    return [json.loads(text) for text in texts if text.startswith("[")]


def metrics(engine: LlamaServer) -> dict[str, float]:
    with urllib.request.urlopen(f"{engine.url}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name.removeprefix("llamacpp:")] = float(value)
    return out


async def start(tmp_path: Path, options: dict[str, Any]) -> RawServer:
    server = await RawServer.start(tmp_path, "--log-level", "DEBUG")
    await server.initialize(options)
    status = await server.wait_ready()
    assert status["state"] == "ready", server.log_tail()
    return server


async def last_stats(server: RawServer) -> dict[str, Any]:
    return dict((await server.request("smallcode/status", {}))["result"]["last"])


async def test_infill_reaches_the_server_with_our_context(
    tmp_path: Path, fim_engine: tuple[LlamaServer, Path]
) -> None:
    engine, prompts = fim_engine
    server = await start(tmp_path, {**OPTIONS, "engineUrl": engine.url, "engineInfill": True})
    try:
        await server.open(HELPERS_URI, HELPERS)
        response = await server.inline(HELPERS_URI, 1, 11, timeout=30)  # a recent snippet
        assert "result" in response, response
        await server.open(MAIN_URI, MAIN)
        before = len(logged_prompts(prompts))
        response = await server.inline(MAIN_URI, LINE, COL, timeout=30)
        assert "result" in response, response  # random weights: any text, or none
        stats = await last_stats(server)
        assert stats["promptTokens"] > 0 and stats["generatedTokens"] > 0, stats
        (built,) = logged_prompts(prompts)[before:]
        text = post(engine, "/detokenize", {"tokens": built})["content"]
        # The server's own repo-level template (ours names the repo "workspace")...
        assert text.startswith("<|repo_name|>myproject\n"), text
        assert "<|file_sep|>filename\n<|fim_prefix|>" in text, text
        assert text.endswith("<|fim_middle|>"), text
        # ...around our prefix, suffix and context snippets
        assert "def mean(items):\n    <|fim_suffix|>\n\ndef spread(items):" in text, text
        assert "<|file_sep|>helpers.py\ndef scale(values, factor):" in text, text
        log = server.log_tail(10**6)
        assert "/infill" in log
        assert "-token warm-up)" in log  # the prompt speed measured at connect
    finally:
        assert await server.close() == 0, server.log_tail()


async def test_infill_cancel_and_bounds(
    tmp_path: Path, fim_engine: tuple[LlamaServer, Path]
) -> None:
    """A long /infill answer: bounded by maxTokens server-side, and a cancel answers at once
    and frees the slot."""
    engine, _ = fim_engine
    options = {**OPTIONS, "maxTokens": 2000, "engineUrl": engine.url, "engineInfill": True}
    options |= {"shaping": False, "context": False}  # no stop rule: the answer runs long
    server = await start(tmp_path, options)
    try:
        await server.open(MAIN_URI, MAIN)
        msg_id = await server.request_nowait(
            "textDocument/inlineCompletion", inline_params(MAIN_URI, LINE, COL)
        )
        began = time.monotonic()
        while not engine.busy_slots():
            assert time.monotonic() - began < 30, "the engine never started the request"
            await asyncio.sleep(0.005)
        await server.notify("$/cancelRequest", {"id": msg_id})
        cancelled = time.monotonic()
        response = await server.response(msg_id, timeout=10)
        assert "result" in response or "error" in response
        assert time.monotonic() - cancelled < 2.0
        while engine.busy_slots():
            assert time.monotonic() - cancelled < 10, "the slot ran on after the cancel"
            await asyncio.sleep(0.01)
        params = engine.slot(0)["params"]
        assert params["n_predict"] == 2000  # maxTokens bounds the request server-side
    finally:
        assert await server.close() == 0, server.log_tail()


async def type_at_the_spot(server: RawServer, chars: str, wait: bool) -> list[dict[str, Any]]:
    """Type `chars` after the cursor, a completion request per keystroke; without `wait`,
    each keystroke's request is sent at once, cancelling the one before (a fast typist)."""
    stats, pending = [], None
    for i, char in enumerate(chars, start=1):
        col = COL + i - 1
        await server.change(MAIN_URI, i + 1, [edit((LINE, col), (LINE, col), char)])
        if pending is not None:
            await server.notify("$/cancelRequest", {"id": pending})
            await server.response(pending, timeout=30)
        pending = await server.request_nowait(
            "textDocument/inlineCompletion", inline_params(MAIN_URI, LINE, col + 1)
        )
        if wait:
            assert "result" in await server.response(pending, timeout=30)
            stats.append(await last_stats(server))
            pending = None
        else:
            await asyncio.sleep(0.02)
    if pending is not None:
        assert "result" in await server.response(pending, timeout=30)
        stats.append(await last_stats(server))
    return stats


@pytest.mark.parametrize("infill", [False, True], ids=["completion", "infill"])
async def test_keystrokes_reuse_the_slots_cache(
    tmp_path: Path, fim_engine: tuple[LlamaServer, Path], infill: bool
) -> None:
    """Typing at one spot: after the first requests, each keystroke's prompt meets the slot's
    cache and only the tokens from the cursor on are evaluated (the server's timings and its
    /metrics counters agree)."""
    engine, _ = fim_engine
    options = {**OPTIONS, "engineUrl": engine.url, "engineInfill": infill}
    options["latencyBudgetMs"] = 1000  # prompts sized as when typing
    server = await start(tmp_path, options)
    try:
        await server.open(MAIN_URI, MAIN)
        for _ in range(2):  # a cold spot, then the same spot cached
            assert "result" in await server.inline(MAIN_URI, LINE, COL, timeout=30)
        full = await last_stats(server)
        before = metrics(engine)
        typed = await type_at_the_spot(server, "return", wait=True)
        after = metrics(engine)
        cached = after["prompt_tokens_cached_total"] - before["prompt_tokens_cached_total"]
        computed = after["prompt_tokens_total"] - before["prompt_tokens_total"]
        evaluated = [s["promptTokensEvaluated"] for s in typed]
        print(
            f"prompt {full['promptTokens']} tokens; keystrokes evaluated {evaluated};"
            f" /metrics: {computed:.0f} evaluated, {cached:.0f} reused"
        )
        grown = 0
        for before_it, stats in zip([full, *typed], typed, strict=False):
            if stats["promptTokens"] > before_it["promptTokens"] + 64:
                # the speed meter found the engine fast enough for the full prompt: it grows
                # once (prompt sizing), then stays
                grown += 1
                continue
            # the same window: only the suffix and the typed text again
            assert stats["promptTokensEvaluated"] < stats["promptTokens"] / 4, (stats, typed)
        assert grown <= 1, typed
        # Our record of the slot is honest: the server's counters say what we believed
        # (the two prompt layouts of /infill differ by a few tokens at the front).
        slack = 8 * len(typed)
        assert abs(computed - sum(evaluated)) <= slack, (computed, evaluated)
        assert abs(cached - sum(s["promptTokensReused"] for s in typed)) <= slack, cached
        assert cached > 2 * computed, (cached, computed)
    finally:
        assert await server.close() == 0, server.log_tail()


async def test_fast_typing_with_cancels_keeps_reusing_the_cache(
    tmp_path: Path, fim_engine: tuple[LlamaServer, Path]
) -> None:
    """Each keystroke cancels the request before it: the slot's cache is still reused."""
    engine, _ = fim_engine
    options = {**OPTIONS, "engineUrl": engine.url, "latencyBudgetMs": 1000}
    server = await start(tmp_path, options)
    try:
        await server.open(MAIN_URI, MAIN)
        for _ in range(2):
            assert "result" in await server.inline(MAIN_URI, LINE, COL, timeout=30)
        full = await last_stats(server)
        before = metrics(engine)
        (last,) = await type_at_the_spot(server, "return sum", wait=False)
        after = metrics(engine)
        cached = after["prompt_tokens_cached_total"] - before["prompt_tokens_cached_total"]
        computed = after["prompt_tokens_total"] - before["prompt_tokens_total"]
        print(
            f"prompt {full['promptTokens']} tokens; /metrics: {computed:.0f} evaluated,"
            f" {cached:.0f} reused"
        )
        assert last["promptTokensEvaluated"] < last["promptTokens"] / 4, (last, full)
        assert cached > 2 * computed, (cached, computed)
    finally:
        assert await server.close() == 0, server.log_tail()
