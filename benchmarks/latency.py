"""Typing replay through the real server over LSP, each latency feature on and off.

An editor's traffic: a `didChange` per keystroke at a fixed typing speed (8 chars/s), an
`inlineCompletion` request after each, and `$/cancelRequest` for a request still running when
the next key arrives. Real source files in several languages; lines of a function body are
deleted and typed back. Printed per configuration:

- keystroke-to-suggestion p50/p95/p99 (answered requests), and the share of keystrokes whose
  suggestion was on screen before the next keystroke;
- prompt tokens evaluated per keystroke (all engine work while typing: answered, cancelled
  and background requests), share of keystrokes answered with zero model work (type-ahead);
- time from cancel to the engine being free (the typing's cancels plus 8 Invoked requests per
  file cancelled at spread-out moments), decode tokens/s, the server's peak RSS;
- after a pause, accepting the suggestion and asking again (3 times per file): time to the next
  suggestion and the share that was ready (prefetched) when asked;
- the raw llama.cpp cost of each model-served request (time inside llama_decode and the
  sampler, measured in the engine) and the server's overhead over it at p50 (everything else
  from receiving the request to answering it: waiting for the engine, context, tokenizing,
  post-processing, Python).

`--scenario cold-big` (issue 12): a fresh server with no warm-up, big real files of several
languages (benchmarks/big_real_files.py), each line at a new spot (the file changes every
line: didOpen the first time, then one didChange cutting the line to its indentation), typed
at 8 chars/s as above. Same columns (those that do not apply print "-") plus the first
suggestion at a new spot p50/p95 (a line's first key to its first non-empty suggestion, even
one landing after later keys) and the lines that never got one. In the same run, the same
typing through a llama.vim-style client of llama-server (benchmarks/llama_server.py: same GGUF,
same threads, -c 4096, cache_prompt, no cancels), and a ratio row ours / reference.

    .venv/bin/python benchmarks/latency.py [--scenario typing|cold-big|all] [--keys N] [--cps 8]
        [--lines N] [--threads 2] [--no-reference] [--prefill] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import prefill  # noqa: E402
from benchmarks.big_real_files import Spot  # noqa: E402
from benchmarks.big_real_files import spots as big_spots  # noqa: E402
from benchmarks.llama_server import LlamaVimClient, start_server  # noqa: E402
from tests.e2e.lsp_session import (  # noqa: E402
    SERVER_COMMAND,
    cancel_request,
    initialize,
    inline_params,
    insert_text,
    open_document,
    send_inline_request,
    status,
    wait_for_state,
)

FEATURES = ("typeahead", "prefetch", "speculative", "cacheReuse", "cacheShift")
CONFIGS: dict[str, dict[str, Any]] = {
    "all on": {},
    "type-ahead off": {"typeahead": False},
    "prefetch off": {"prefetch": False},
    "speculative off": {"speculative": False},
    "KV shift off": {"cacheShift": False},
    "parking off": {"warmCacheMb": 0},  # no KV states of other spots kept in RAM
    "deadline sizing off": {"latencyBudgetMs": 0},
    "prefix reuse off": {"cacheReuse": False, "cacheShift": False},
    "all off": {f: False for f in FEATURES} | {"latencyBudgetMs": 0},
}


def sessions() -> list[tuple[Path, str, str]]:
    """(file, languageId, line to retype): real code in Python, JavaScript and Go."""
    import json.decoder

    fixtures = ROOT / "tests" / "fixtures"
    return [
        (Path(json.decoder.__file__), "python", "        end = _w(s, end).end()"),
        (
            fixtures / "js_graceful_fs" / "graceful-fs.js",
            "javascript",
            "    return go$readFile(path, options, cb)",
        ),
        (
            fixtures / "multi" / "client.go",
            "go",
            '\t\treturn fmt.Errorf("connect() got error: %v", err)',
        ),
    ]


@dataclass
class Keystroke:
    sent: float
    answered: float | None = None
    items: int = 0
    cancelled: bool = False
    zero_work: bool = False  # reference: shown from the client's cache, no request
    text: str = ""  # the first item's text


@dataclass
class Run:
    keys: list[Keystroke] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)
    peak_rss: int = 0
    cancel_to_idle: list[float] = field(default_factory=list)
    after_accept: list[tuple[float, bool]] = field(default_factory=list)  # (ms, from cache)
    evaluated_while_typing: int = 0  # prompt tokens the engine decoded during the typing
    lines: list[list[Keystroke]] = field(default_factory=list)  # cold-big: keys per line


def retype_plan(path: Path, line_text: str, keys: int) -> tuple[str, int, int, str]:
    """The document with `line_text` cut to its indentation; where to type; what to type."""
    text = path.read_text()
    start = text.index(line_text)
    indent = len(line_text) - len(line_text.lstrip())
    typed = line_text[indent:][:keys]
    body = text[: start + indent] + text[start + len(line_text) :]
    line = text[:start].count("\n")
    return body, line, indent, typed


async def replay(
    config: dict[str, Any],
    keys: int,
    cps: float,
    probes: bool = True,
    files: list[tuple[Path, str, str]] | None = None,
) -> Run:
    """The typing scenario: per file (default: `sessions()`), a warm-up pause, `keys` typed,
    then (with `probes`) the cancel and accept probes."""
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    run = Run()
    client.feature("smallcode/completionStats")(lambda params: run.stats.append(_plain(params)))
    await initialize(client, {"maxTokens": 32, "debug": True, **config})
    await wait_for_state(client, "ready")
    server = psutil.Process(client._server.pid)  # type: ignore[union-attr]
    interval = 1.0 / cps
    file_stats: list[dict[str, Any]] = []
    for path, language, line_text in files or sessions():
        body, line, column, typed = retype_plan(path, line_text, keys)
        uri = path.as_uri()
        open_document(client, uri, body, language)
        # The cursor lands on the line and the user pauses: the editor's first request is
        # answered and the whole prompt is grown in the background (a cold prefill, not
        # counted: the cold-big scenario measures that), then the typing starts.
        await client.text_document_inline_completion_async(inline_params(uri, line, column))
        await wait_idle(client, background=True)
        evaluated_before = (await status(client))["promptTokensEvaluated"]
        run.stats.clear()
        await type_along(client, run, server, uri, 2, line, column, typed, interval)
        column += len(typed)
        await wait_idle(client)
        evaluated = (await status(client))["promptTokensEvaluated"] - evaluated_before
        run.evaluated_while_typing += evaluated
        file_stats.extend(run.stats)
        run.stats.clear()
        if probes:
            await cancel_probes(client, uri, line, column)
            await accept_probes(client, run, uri, line, column, len(typed) + 2)
        run.stats.clear()
        client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
    run.stats = file_stats
    run.cancel_to_idle = (await status(client))["cancelToIdleMs"]
    run.peak_rss = max(run.peak_rss, server.memory_info().rss)
    await client.shutdown_session()
    await client.stop()
    return run


async def type_along(
    client: Any,
    run: Run,
    server: psutil.Process,
    uri: str,
    first_version: int,
    line: int,
    column: int,
    typed: str,
    interval: float,
) -> list[Keystroke]:
    """Type `typed` at (line, column), document versions from `first_version` on: a didChange and an
    Automatic request per key, `$/cancelRequest` for a request still running at the next key.
    Returns once the last key's request is answered."""
    keys: list[Keystroke] = []
    pending: tuple[str, asyncio.Future, Keystroke] | None = None
    for version, ch in enumerate(typed, start=first_version):
        if pending is not None and not pending[1].done():
            cancel_request(client, pending[0])
            pending[2].cancelled = True
        key = Keystroke(sent=time.perf_counter())
        insert_text(client, uri, version, line, column, ch)
        column += 1
        msg_id, future = send_inline_request(client, uri, line, column)
        future.add_done_callback(lambda f, key=key: _answered(f, key))
        keys.append(key)
        pending = (msg_id, future, key)
        await asyncio.sleep(max(0.0, key.sent + interval - time.perf_counter()))
        run.peak_rss = max(run.peak_rss, server.memory_info().rss)
    if pending is not None:
        await asyncio.gather(pending[1], return_exceptions=True)
    run.keys.extend(keys)
    return keys


PROBE_DELAYS_S = (0.03, 0.07, 0.12, 0.18, 0.25, 0.33, 0.42, 0.52)


async def cancel_probes(client: Any, uri: str, line: int, column: int) -> None:
    """Invoked requests (long answers) cancelled part-way: samples of cancel -> engine idle.

    Typing alone cancels few requests once answers fit between keystrokes, too few for a
    stable median; these land at spread-out moments of prompt evaluation and decoding.
    """
    kind = lsp.InlineCompletionTriggerKind.Invoked
    for delay in PROBE_DELAYS_S:
        msg_id, future = send_inline_request(client, uri, line, column, kind)
        await asyncio.sleep(delay)
        if not future.done():
            cancel_request(client, msg_id)
        await asyncio.gather(future, return_exceptions=True)
        await wait_idle(client)


ACCEPTS = 3
PAUSE_S = 1.0


async def accept_probes(
    client: Any, run: Run, uri: str, line: int, column: int, version: int
) -> None:
    """The user pauses, accepts the suggestion (Tab), and the editor asks again: how long until
    the next suggestion, and was it ready (prefetched) or made on demand. Chained 3 times."""
    params = inline_params(uri, line, column)
    result = await client.text_document_inline_completion_async(params)
    for _ in range(ACCEPTS):
        items = result.items if result is not None else []
        if not items or not isinstance(items[0].insert_text, str):
            return
        await asyncio.sleep(PAUSE_S)  # reading the suggestion: background work may run
        text = items[0].insert_text
        insert_text(client, uri, version, line, column, text)
        version += 1
        if "\n" in text:
            line += text.count("\n")
            column = len(text.rsplit("\n", 1)[1])
        else:
            column += len(text)
        run.stats.clear()
        began = time.perf_counter()
        result = await client.text_document_inline_completion_async(
            inline_params(uri, line, column)
        )
        elapsed = (time.perf_counter() - began) * 1000
        from_cache = bool(run.stats) and bool(run.stats[-1]["fromCache"])
        run.after_accept.append((elapsed, from_cache))


async def wait_idle(client: Any, timeout: float = 60.0, background: bool = False) -> None:
    """Until the engine has no user job (with `background`: no prefetch or prompt growth
    either)."""
    deadline = time.perf_counter() + timeout
    keys = ("engineIdle", "engineBackgroundIdle") if background else ("engineIdle",)
    while time.perf_counter() < deadline:
        state = await status(client)
        if all(state.get(key, True) for key in keys):
            return
        await asyncio.sleep(0.05)


def _answered(future: asyncio.Future, key: Keystroke) -> None:
    key.answered = time.perf_counter()
    if not future.cancelled() and future.exception() is None:
        result = future.result()
        key.items = len(result.items) if result is not None else 0
        if key.items:
            first = result.items[0].insert_text
            key.text = first if isinstance(first, str) else first.value


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    return value


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summarize(name: str, run: Run, interval: float) -> dict[str, Any]:
    shown = [k for k in run.keys if k.items and k.answered is not None]
    latencies = [(k.answered - k.sent) * 1000 for k in shown]  # type: ignore[operator]
    on_time = sum(1 for ms in latencies if ms <= interval * 1000) / len(run.keys)
    model = [s for s in run.stats if not s["fromCache"]]
    raw = [s["llamaMs"] for s in model]
    overhead = [max(0.0, s["latencyMs"] - s["llamaMs"]) for s in model]
    generated = sum(s["generatedTokens"] for s in model)
    generate_ms = sum(s["generateMs"] for s in model)
    return {
        "config": name,
        "keystrokes": len(run.keys),
        "on_screen_before_next_key": round(on_time, 3),
        "p50_ms": round(pct(latencies, 50), 1),
        "p95_ms": round(pct(latencies, 95), 1),
        "p99_ms": round(pct(latencies, 99), 1),
        "evaluated_tokens_per_keystroke": round(run.evaluated_while_typing / len(run.keys), 2),
        "evaluated_tokens_per_request_median": statistics.median(
            [s["promptTokensEvaluated"] for s in model] or [0]
        ),
        "zero_work_share": round(sum(1 for s in run.stats if s["fromCache"]) / len(run.keys), 3),
        "cancels": len(run.cancel_to_idle),
        "cancel_to_idle_p50_ms": round(pct(run.cancel_to_idle, 50), 1),
        "cancel_to_idle_p95_ms": round(pct(run.cancel_to_idle, 95), 1),
        "cancel_to_idle_max_ms": round(max(run.cancel_to_idle, default=float("nan")), 1),
        "tokens_per_s": round(generated / (generate_ms / 1000), 1) if generate_ms else 0.0,
        "ms_per_token": round(generate_ms / generated, 1) if generated else 0.0,
        "raw_p50_ms": round(pct(raw, 50), 1),
        "server_overhead_p50_ms": round(pct(overhead, 50), 1),
        "queue_p50_ms": round(pct([s["queueMs"] for s in model], 50), 1),
        "prepare_p50_ms": round(pct([s["prepareMs"] for s in model], 50), 1),
        "overhead_ratio_p50": round(pct(overhead, 50) / pct(raw, 50), 3)
        if raw and pct(raw, 50)
        else 0.0,
        "peak_rss_mb": round(run.peak_rss / 2**20, 1),
        "after_accept_p50_ms": round(pct([ms for ms, _ in run.after_accept], 50), 1),
        "after_accept_ready": round(
            sum(1 for _, hit in run.after_accept if hit) / max(1, len(run.after_accept)), 2
        ),
    }


COLUMNS = [
    ("config", "config"),
    ("on_screen_before_next_key", "on screen"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"),
    ("evaluated_tokens_per_keystroke", "eval tok/key"),
    ("zero_work_share", "zero-work"),
    ("cancel_to_idle_p50_ms", "cancel->idle p50 ms"),
    ("cancel_to_idle_p95_ms", "cancel->idle p95 ms"),
    ("tokens_per_s", "tok/s"),
    ("raw_p50_ms", "raw llama.cpp p50 ms"),
    ("server_overhead_p50_ms", "overhead p50 ms"),
    ("overhead_ratio_p50", "overhead/raw p50"),
    ("after_accept_p50_ms", "after accept p50 ms"),
    ("after_accept_ready", "after accept ready"),
    ("peak_rss_mb", "peak RSS MB"),
]


# Cold spots in big real files (issue 12): a fresh server, no warm-up, a new spot every line.

SPOT_COLUMNS = [
    ("first_at_spot_p50_ms", "first at new spot p50 ms"),
    ("first_at_spot_p95_ms", "first at new spot p95 ms"),
    ("lines_without", "lines with none"),
]
REFERENCE_CTX = 4096


def delete_range(client: Any, uri: str, version: int, line: int, start: int, end: int) -> None:
    """One didChange removing characters start..end of `line`."""
    span = lsp.Range(
        start=lsp.Position(line=line, character=start), end=lsp.Position(line=line, character=end)
    )
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(range=span, text="")],
        )
    )


def move_cursor(client: Any, uri: str, line: int, character: int) -> None:
    """What our editor clients send when the cursor comes to rest (smallcode/didMoveCursor)."""
    client.protocol.notify(
        "smallcode/didMoveCursor",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
    )


async def replay_cold(
    spots: list[Spot],
    cps: float,
    threads: int,
    options: dict[str, Any] | None = None,
    dwell: float | None = None,
) -> Run:
    """Our server, fresh: per spot, open its file if not yet open (the file changes every
    line), cut the line to its indentation (one didChange) and type it back. `options`: more
    settings (benchmarks/remote.py: `engineUrl`). `dwell` (navigation): the cursor is moved
    to the spot (smallcode/didMoveCursor) and rests that many seconds before the first key."""
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    run = Run()
    client.feature("smallcode/completionStats")(lambda params: run.stats.append(_plain(params)))
    await initialize(client, {"debug": True, "nThreads": threads, **(options or {})})
    await wait_for_state(client, "ready")
    server = psutil.Process(client._server.pid)  # type: ignore[union-attr]
    versions: dict[str, int] = {}
    for spot in spots:
        uri = spot.path.as_uri()
        if uri not in versions:
            open_document(client, uri, spot.path.read_text(), spot.language)
            versions[uri] = 1
        versions[uri] += 1
        delete_range(client, uri, versions[uri], spot.line, spot.indent, len(spot.text))
        if dwell is not None:
            move_cursor(client, uri, spot.line, spot.indent)
            await asyncio.sleep(dwell)
        line = await type_along(
            client, run, server, uri, versions[uri] + 1, spot.line, spot.indent, spot.typed, 1 / cps
        )
        versions[uri] += len(spot.typed)
        run.lines.append(line)
    final = await status(client)
    # All of it: the warm-ups of resting spots (navigation) count too.
    run.evaluated_while_typing = final["promptTokensEvaluated"]
    run.cancel_to_idle = final["cancelToIdleMs"]
    await client.shutdown_session()
    await client.stop()
    return run


async def replay_reference(
    spots: list[Spot], cps: float, threads: int
) -> tuple[Run, LlamaVimClient]:
    """The same typing through a llama.vim-style client of llama-server (same GGUF, threads)."""
    server = await asyncio.to_thread(start_server, None, threads, REFERENCE_CTX)
    process = psutil.Process(server.process.pid)
    run = Run()
    typing: list[Keystroke] = []

    def on_show(at: float, from_cache: bool) -> None:
        """A hint on screen: it belongs to the key the cursor is at."""
        if typing and typing[-1].answered is None:
            typing[-1].answered, typing[-1].items, typing[-1].zero_work = at, 1, from_cache

    client = LlamaVimClient(server.port, on_show)
    documents: dict[Path, list[str]] = {}
    try:
        for spot in spots:
            lines = documents.setdefault(spot.path, spot.path.read_text().split("\n"))
            lines[spot.line] = spot.text[: spot.indent]
            typing = []
            for column, ch in enumerate(spot.typed, start=spot.indent):
                key = Keystroke(sent=time.perf_counter())
                typing.append(key)
                lines[spot.line] = lines[spot.line][:column] + ch + lines[spot.line][column:]
                client.cursor_moved(lines, spot.line, column + 1)
                await asyncio.sleep(max(0.0, key.sent + 1 / cps - time.perf_counter()))
                run.peak_rss = max(run.peak_rss, process.memory_info().rss)
            # As for ours: wait for the line's last key to be answered (or nothing left to do).
            deadline = time.perf_counter() + 60
            while client.busy() and typing[-1].answered is None and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
            run.keys.extend(typing)
            run.lines.append(typing)
        deadline = time.perf_counter() + 60
        while client.busy() and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await asyncio.to_thread(server.stop)
    return run, client


def spot_columns(run: Run) -> dict[str, Any]:
    """First suggestion at each new spot: from a line's first key to its first non-empty
    suggestion (even one that lands after later keys); lines that never get one."""
    per_line: list[float | None] = []
    for keys in run.lines:
        shown = [k.answered for k in keys if k.items and k.answered is not None]
        per_line.append(round((min(shown) - keys[0].sent) * 1000, 1) if shown else None)
    firsts = [ms for ms in per_line if ms is not None]
    missing = len(per_line) - len(firsts)
    return {
        "first_at_spot_p50_ms": round(pct(firsts, 50), 1),
        "first_at_spot_p95_ms": round(pct(firsts, 95), 1),
        "lines_without": f"{missing}/{len(per_line)}",
        "lines_without_count": missing,
        "first_at_spot_ms": per_line,  # per line, None: never
    }


def summarize_reference(name: str, run: Run, client: LlamaVimClient, interval: float) -> dict:
    """The reference's row: llama-server's own timings stand in for the engine stats."""
    shown = [k for k in run.keys if k.items and k.answered is not None]
    latencies = [(k.answered - k.sent) * 1000 for k in shown]  # type: ignore[operator]
    timings = client.responses
    generated = sum(r.get("timings/predicted_n", 0) for r in timings)
    generate_ms = sum(r.get("timings/predicted_ms", 0.0) for r in timings)
    raw = [r.get("timings/prompt_ms", 0.0) + r.get("timings/predicted_ms", 0.0) for r in timings]
    row: dict[str, Any] = {key: "-" for key, _ in COLUMNS}
    row |= {
        "config": name,
        "keystrokes": len(run.keys),
        "requests": len(timings),
        "errors": client.errors[:5],
        "timings": [{k: v for k, v in r.items() if k.startswith("timings/")} for r in timings],
        "on_screen_before_next_key": round(
            sum(1 for ms in latencies if ms <= interval * 1000) / len(run.keys), 3
        ),
        "p50_ms": round(pct(latencies, 50), 1),
        "p95_ms": round(pct(latencies, 95), 1),
        "p99_ms": round(pct(latencies, 99), 1),
        "evaluated_tokens_per_keystroke": round(
            sum(r.get("timings/prompt_n", 0) for r in timings) / len(run.keys), 2
        ),
        "zero_work_share": round(sum(1 for k in shown if k.zero_work) / len(run.keys), 3),
        "tokens_per_s": round(generated / (generate_ms / 1000), 1) if generate_ms else 0.0,
        "ms_per_token": round(generate_ms / generated, 1) if generated else 0.0,
        "raw_p50_ms": round(pct(raw, 50), 1),
        "peak_rss_mb": round(run.peak_rss / 2**20, 1),
    }
    return row | spot_columns(run)


def exact_rest_of_line(run: Run, spots: list[Spot]) -> float:
    """Share of lines whose first suggestion is exactly the rest of the line being typed."""
    hits = 0
    for keys, spot in zip(run.lines, spots, strict=True):
        for typed, key in enumerate(keys, start=1):
            if key.items and key.answered is not None:
                rest = spot.typed[typed:]
                hits += bool(rest.strip()) and key.text.split("\n")[0].strip() == rest.strip()
                break
    return round(hits / max(1, len(spots)), 3)


NAVIGATION_DWELLS = (0.0, 0.5, 1.0, 2.0)
REVISIT_AFTER = 4  # a revisit goes back to the spot seen this many spots earlier


def revisit_order(spots: list[Spot]) -> list[Spot]:
    """The spots, then each again after REVISIT_AFTER others (files alternate as before)."""
    order = list(spots)
    for i in range(REVISIT_AFTER, len(spots)):
        order.append(spots[i - REVISIT_AFTER])
    return order


def navigation_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Per dwell, a fresh server: move to each spot (the notification), rest, type its line;
    the revisit pass goes back to spots seen REVISIT_AFTER jumps earlier (dwell 1 s). Beside
    it, the llama.vim-style reference (no notion of a resting cursor: the dwell is idle)."""
    chosen = big_spots()[: args.lines]
    interval = 1.0 / args.cps
    rows: list[dict[str, Any]] = []
    for dwell in NAVIGATION_DWELLS:
        run = asyncio.run(replay_cold(chosen, args.cps, args.threads, dwell=dwell))
        row = summarize(f"navigation, dwell {dwell:g} s: SmallCode", run, interval)
        rows.append(row | spot_columns(run) | {"exact_rest": exact_rest_of_line(run, chosen)})
        print(f"  navigation dwell {dwell:g} s: done", file=sys.stderr)
    revisits = revisit_order(chosen)
    run = asyncio.run(replay_cold(revisits, args.cps, args.threads, dwell=1.0))
    later = run.lines[len(chosen) :]
    # The engine-side columns (tok/s, eval tok/key, cancels) are the whole revisit run's.
    again = Run(
        lines=later,
        keys=[key for keys in later for key in keys],
        stats=run.stats,
        cancel_to_idle=run.cancel_to_idle,
        evaluated_while_typing=run.evaluated_while_typing * len(later) // len(run.lines),
    )
    row = summarize(f"revisits after {REVISIT_AFTER} spots, dwell 1 s: SmallCode", again, interval)
    row |= spot_columns(again) | {"exact_rest": exact_rest_of_line(again, revisits[len(chosen) :])}
    row["peak_rss_mb"] = round(run.peak_rss / 2**20, 1)
    rows.append(row)
    print("  navigation revisits: done", file=sys.stderr)
    if args.reference:
        run, client = asyncio.run(replay_reference(chosen, args.cps, args.threads))
        reference = summarize_reference("llama.vim-style (any dwell)", run, client, interval)
        reference |= {"exact_rest": exact_rest_of_line(run, chosen)}
        rows.append(reference)
        for row in rows[:-1]:
            rows.append(ratio_row(row, reference, f"ratio: {row['config'].split(':')[0]} / ref"))
    return rows


def ratio_row(
    ours: dict[str, Any], reference: dict[str, Any], name: str = "ratio ours / reference"
) -> dict[str, Any]:
    """ours / reference for every column both rows have a number in."""
    row: dict[str, Any] = {"config": name}
    for key, _ in COLUMNS[1:] + SPOT_COLUMNS:
        a, b = ours.get(key), reference.get(key)
        if key == "lines_without":
            a, b = ours.get("lines_without_count"), reference.get("lines_without_count")
        numbers = isinstance(a, int | float) and isinstance(b, int | float)
        if numbers and b and not math.isnan(a) and not math.isnan(b):  # type: ignore[arg-type]
            row[key] = round(a / b, 3)  # type: ignore[operator]
        else:
            row[key] = "-"
    return row


def cold_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    chosen = big_spots()[: args.lines]
    for spot in chosen:
        print(f"  {spot.path.name}:{spot.line + 1}: {spot.typed!r}", file=sys.stderr)
    interval = 1.0 / args.cps
    run = asyncio.run(replay_cold(chosen, args.cps, args.threads))
    ours = summarize("cold big files: SmallCode", run, interval) | spot_columns(run)
    ours |= {"after_accept_p50_ms": "-", "after_accept_ready": "-"}
    rows = [ours]
    print("  cold big files: done", file=sys.stderr)
    if args.reference:
        run, client = asyncio.run(replay_reference(chosen, args.cps, args.threads))
        reference = summarize_reference("cold big files: llama.vim-style", run, client, interval)
        rows += [reference, ratio_row(ours, reference)]
        print("  llama.vim-style reference: done", file=sys.stderr)
    lines = [
        {"file": str(s.path), "line": s.line + 1, "language": s.language, "typed": s.typed}
        for s in chosen
    ]
    return [row | {"lines": lines} for row in rows]


def cell(value: Any) -> str:
    return "-" if isinstance(value, float) and math.isnan(value) else str(value)


def print_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """A Markdown table: a row per dict, "-" for what a row lacks."""
    print("| " + " | ".join(title for _, title in columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(cell(row.get(key, "-")) for key, _ in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scenario", choices=("typing", "cold-big", "navigation", "all"), default="typing",
        help="typing: warm small files, each feature on/off; cold-big: fresh server, big real "
        "files, a new spot every line, beside a llama.vim-style llama-server reference; "
        "navigation: cold-big with the cursor moved to each spot and resting 0-2 s first",
    )  # fmt: skip
    parser.add_argument("--keys", type=int, default=24, help="typing: characters typed per file")
    parser.add_argument("--cps", type=float, default=8.0, help="typing speed, chars per second")
    parser.add_argument("--only", nargs="*", help="typing: configurations to run (default: all)")
    parser.add_argument("--lines", type=int, help="cold-big: lines to retype (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="cold-big: threads of both servers")
    parser.add_argument(
        "--no-reference", dest="reference", action="store_false",
        help="cold-big: skip the llama.vim-style reference",
    )  # fmt: skip
    parser.add_argument(
        "--prefill", action="store_true",
        help="also print prefill tokens/s, ours against llama-bench (benchmarks/prefill.py)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = []
    if args.scenario in ("typing", "all"):
        for name, config in CONFIGS.items():
            if args.only and name not in args.only:
                continue
            run = asyncio.run(replay(config, args.keys, args.cps))
            rows.append(summarize(name, run, 1.0 / args.cps))
            print(f"  {name}: done", file=sys.stderr)
        files = ", ".join(f"{p.name} ({lang})" for p, lang, _ in sessions())
        print(f"typing replay at {args.cps:g} chars/s, {args.keys} keys in each of {files}")
    columns = COLUMNS
    if args.scenario in ("cold-big", "all"):
        cold = cold_rows(args)
        lines = cold[0]["lines"]
        files = ", ".join(sorted({f"{Path(x['file']).name} ({x['language']})" for x in lines}))
        print(
            f"cold big files at {args.cps:g} chars/s, {len(lines)} lines, a new spot each (files "
            f"alternate), fresh servers, {args.threads} threads: {files}"
        )
        rows += cold
        columns = COLUMNS + SPOT_COLUMNS
    if args.scenario == "navigation":
        rows = navigation_rows(args)
        print(
            f"navigation at {args.cps:g} chars/s in big real files, {args.threads} threads,"
            f" dwells {', '.join(f'{d:g}' for d in NAVIGATION_DWELLS)} s"
        )
        columns = [
            col for col in COLUMNS if col[0] not in ("after_accept_p50_ms", "after_accept_ready")
        ]
        columns += [*SPOT_COLUMNS, ("exact_rest", "first exact rest of line")]
    print_table(rows, columns)
    if args.prefill:
        result = prefill.measure(args.threads, reps=prefill.REPS, spots=prefill.SPOTS)
        prefill.print_table(result)
        rows.append({"config": "prefill", **result})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
