"""The remote engine (issue 13): the typing replay in process against llama-server, and N
developers sharing one llama-server.

1. Comparison: benchmarks/latency.py's replay, scenario `typing` (its "all on" configuration:
   warm small files, the cancel and accept probes) or `cold-big` (fresh servers, big real
   files, a new spot every line), run by `smallcode-lsp` with the model in process and again
   with `engineUrl` pointing at a llama-server on this machine (same GGUF and threads, one
   slot of the in-process context, 4096 tokens, llama-server's defaults otherwise; started
   fresh for each run). One table, latency.py's columns, a ratio row llama-server /
   in-process. Through llama-server: `cancel->idle` is our engine worker letting go (closing
   the stream, not the server's slot: the load run measures that), `peak RSS` is the
   `smallcode-lsp` process only (the model lives in llama-server), and the raw llama.cpp
   time (and our overhead over it) counts only answers whose final `timings` we read.
2. Load: N = 1, 4, 8 developers (benchmarks/remote_load.py) typing at 8 chars/s at staggered
   starts, each its own `smallcode-lsp serve` and workspace copy of the same files, against
   ONE llama-server with `--slots` slots of `--slot-ctx` tokens each. Per N, then per
   developer: on-screen share, keystroke-to-suggestion p50/p95, the slot the developer's
   hash picked (`--spread-slots`: one each, the best case), the prompt-cache hit ratio (the
   engine's, from /metrics, over every task; the answered requests', partly our estimate),
   our /completion requests by how they ended (read to the end, closed on a cancel, on our
   own stop rule or deadline, on a fault) and the engine's tasks that ran after we had let
   go (ran to their end unread, or stopped when the server noticed; the slot's lag from
   noticing to free; tasks dropped while queued for their slot).
   benchmarks/remote_stats.py says what each number is made of and how far to trust it.
   All processes share this machine's cores: on 2 cores, N = 8 measures eight
   `smallcode-lsp` processes competing with the engine too.

    .venv/bin/python benchmarks/remote.py [--scenario typing|cold-big] [--users 1,4,8]
        [--lines N] [--slots 4] [--only remote|local] [--parts compare,load] [--json OUT]
        [--threads 2] [--spread-slots] [--keep-logs DIR] [--server-args "..."]
    .venv/bin/python benchmarks/remote.py --smoke      # a minute or two: proves it works
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import latency  # noqa: E402
from benchmarks.big_real_files import find_files  # noqa: E402
from benchmarks.big_real_files import spots as big_spots  # noqa: E402
from benchmarks.llama_server import start_server  # noqa: E402
from benchmarks.remote_load import LoadPlan, run_load  # noqa: E402

CTX = 4096  # the in-process default (nCtx): the comparison's one slot gets as much
SIDES = ("local", "remote")
LOAD_LINES = 4
LOAD_COLUMNS = [
    ("users", "N"),
    ("user", "developer"),
    ("slot", "slot"),
    ("keystrokes", "keys"),
    ("on_screen_before_next_key", "on screen"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("engine_hit_ratio", "hit ratio (engine /metrics)"),
    ("answered_hit_ratio", "hit ratio (answered, partly est.)"),
    ("requests", "requests"),
    ("closed_on_cancel", "closed: cancel"),
    ("cancelled_unsent", "(of which unsent)"),
    ("closed_by_our_stop", "closed: our stop"),
    ("closed_on_fault", "closed: fault"),
    ("engine_tasks", "engine tasks"),
    ("ran_to_end_unread", "ran to end unread"),
    ("stopped_on_cancel", "stopped on cancel"),
    ("ran_after_cancel", "ran after let go"),
    ("noticed_to_free_p50_ms", "noticed->free p50 ms"),
    ("dropped_before_launch", "dropped queued"),
]


async def compare_run(args: argparse.Namespace, side: str, keys: int) -> dict[str, Any]:
    """One row: the scenario with the model in process, or through a fresh llama-server."""
    options: dict[str, Any] = {"nThreads": args.threads}
    server = None
    if side == "remote":
        extra = tuple(args.server_args.split())
        server = await asyncio.to_thread(start_server, None, args.threads, CTX, extra)
        options["engineUrl"] = server.url
        options |= engine_settings(args)
    name = f"{args.scenario}: {'in-process' if side == 'local' else 'llama-server'}"
    try:
        if args.scenario == "typing":
            files = latency.sessions()[: args.files]
            run = await latency.replay(options, keys, args.cps, args.probes, files)
            row = latency.summarize(name, run, 1 / args.cps)
        else:
            run = await latency.replay_cold(args.spots, args.cps, args.threads, options)
            row = latency.summarize(name, run, 1 / args.cps) | latency.spot_columns(run)
            row |= {"after_accept_p50_ms": "-", "after_accept_ready": "-"}
        row |= raw_columns(run.stats)
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
    print(f"  {name}: done", file=sys.stderr)
    return row


def raw_columns(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """The raw engine time (and our overhead over it) of the model-served answers that know
    it: all of them in process; through llama-server only those whose final `timings` we read
    (a stream our stop rules closed has none)."""
    known = [s for s in stats if not s["fromCache"] and s["llamaMs"] > 0]
    raw = [s["llamaMs"] for s in known]
    overhead = [max(0.0, s["latencyMs"] - s["llamaMs"]) for s in known]
    raw_p50, overhead_p50 = latency.pct(raw, 50), latency.pct(overhead, 50)
    return {
        "raw_p50_ms": round(raw_p50, 1),
        "server_overhead_p50_ms": round(overhead_p50, 1),
        "overhead_ratio_p50": round(overhead_p50 / raw_p50, 3) if raw else float("nan"),
        "raw_known": len(known),
    }


def engine_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Remote-engine settings besides the URL (none: the defaults)."""
    timeout = args.engine_timeout_ms
    return {"engineTimeoutMs": timeout} if timeout else {}


def compare_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = [asyncio.run(compare_run(args, side, args.keys)) for side in args.sides]
    if len(rows) == 2:
        rows.append(latency.ratio_row(rows[1], rows[0], "ratio llama-server / in-process"))
    return rows


def load_plan(args: argparse.Namespace) -> LoadPlan:
    if args.scenario == "typing":
        chosen = latency.sessions()[: args.files]
        files = {path.name: language for path, language, _ in chosen}
        sources = {path.name: path for path, _, _ in chosen}
    else:
        found = find_files()
        files = {path.name: language for language, path in found.items()}
        sources = {path.name: path for path in found.values()}
    return LoadPlan(
        files=files,
        sources=sources,
        lines=args.load_lines,
        keys=args.line_keys,
        cps=args.cps,
        stagger=args.stagger,
        pause=args.pause if args.scenario == "typing" else 0.0,
        slots=args.slots,
        slot_ctx=args.slot_ctx,
        threads=args.threads,
        most_users=max(args.users),
        keep=args.keep_logs,
        spread=args.spread_slots,
        settings=engine_settings(args),
    )


def load_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    plan = load_plan(args)
    rows = []
    for users in args.users:
        row = asyncio.run(run_load(plan, users, tuple(args.server_args.split())))
        rows.append(row)
        print(f"  load N={users}: done in {row['typing_s']} s of typing", file=sys.stderr)
    return rows


def print_load(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n{args.scenario} load: N developers at {args.cps:g} chars/s, {args.load_lines} lines "
        f"each, starts {args.stagger:g} s apart, one llama-server: {args.slots} slots x "
        f"{args.slot_ctx} tokens, {args.threads} threads"
    )
    table: list[dict[str, Any]] = []
    for row in rows:
        table.append(row)
        table += [{"users": row["users"], **user} for user in row["per_user"]]
    latency.print_table(table, LOAD_COLUMNS)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=("typing", "cold-big"), default="typing")
    parser.add_argument("--parts", default="compare,load", help="compare, load or both")
    parser.add_argument("--only", choices=SIDES, help="compare: one side only (no ratio row)")
    parser.add_argument("--users", help="load: developer counts, comma-separated (1,4,8)")
    parser.add_argument(
        "--lines", type=int,
        help=f"load: lines per developer (default {LOAD_LINES}); cold-big compare: lines (all)",
    )  # fmt: skip
    parser.add_argument("--slots", type=int, default=4, help="load: llama-server slots (-np)")
    parser.add_argument("--slot-ctx", type=int, default=CTX, help="load: context per slot")
    parser.add_argument("--cps", type=float, default=8.0, help="typing speed, chars per second")
    parser.add_argument("--keys", type=int, default=24, help="typing compare: keys per file")
    parser.add_argument("--line-keys", type=int, help="load: keys per line (default: all)")
    parser.add_argument("--stagger", type=float, default=0.7, help="load: s between starts")
    parser.add_argument("--pause", type=float, default=1.0, help="typing load: s at a new line")
    parser.add_argument("--threads", type=int, default=2, help="threads of every engine")
    parser.add_argument("--server-args", default="", help="more llama-server arguments")
    parser.add_argument("--engine-timeout-ms", type=int, help="engineTimeoutMs (default: its)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep-logs", type=Path, help="load: keep the logs in DIR/N<users>/")
    parser.add_argument(
        "--spread-slots", action="store_true",
        help="load: put developer u on slot u mod slots (default: the product's hash)",
    )  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="a few keys: proves it works")
    args = parser.parse_args(argv)
    users = args.users or ("1,2" if args.smoke else "1,4,8")
    args.users = [int(n) for n in users.split(",") if n.strip()]
    args.parts = set(args.parts.split(","))
    args.sides = (args.only,) if args.only else SIDES
    args.files, args.probes = None, True
    if args.smoke:  # one small file, 3 keys, no probes; N = 1, 2 typing 4 keys of one line
        args.scenario, args.keys, args.files, args.probes = "typing", 3, 1, False
        args.lines, args.line_keys = 1, 4
        args.stagger, args.pause, args.threads = 0.2, 0.3, 1  # 1: spinning threads on a busy box
        args.engine_timeout_ms = args.engine_timeout_ms or 60_000  # a busy box: answers, not faults
    if args.scenario == "cold-big" and "compare" in args.parts:
        args.spots = big_spots()[: args.lines]  # all 12 unless --lines, as latency.py
    args.load_lines = args.lines or LOAD_LINES
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k != "spots"}}
    if "compare" in args.parts:
        rows = compare_rows(args)
        columns = latency.COLUMNS
        if args.scenario == "cold-big":
            columns = latency.COLUMNS + latency.SPOT_COLUMNS
        print(f"{args.scenario}: in process against llama-server, {args.cps:g} chars/s")
        latency.print_table(rows, columns)
        results["compare"] = rows
    if "load" in args.parts and args.only == "local":
        print("load: skipped (--only local: the load run needs llama-server)", file=sys.stderr)
    elif "load" in args.parts:
        rows = load_rows(args)
        print_load(rows, args)
        results["load"] = rows
    if args.json:
        results["args"]["parts"] = sorted(args.parts)
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
