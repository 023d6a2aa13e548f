"""What benchmarks/remote.py's multi-user run reports, from plain records (no processes here,
so tests/benchmarks/test_remote_benchmark.py checks it on fake ones).

Sources, and why each:
- keystrokes (latency.Keystroke: sent, answered, items) per simulated developer: on-screen
  share (a non-empty suggestion answered within one keystroke interval, over all keystrokes)
  and keystroke-to-suggestion p50/p95 over the shown ones, as benchmarks/latency.py counts them;
- `smallcode/completionStats` (the `debug` setting) of each answered request: the remote
  engine copies llama-server's final `timings` (`cache_n` -> promptTokensReused, `prompt_n` ->
  promptTokensEvaluated) when it read the final event; when our stop rules closed the stream
  first (the usual end of a one-line answer) it is our own estimate of what the slot held
  (wrong when another developer's request replaced it), and cancelled or background requests
  report nothing: the answered requests' ratio, per developer, partly estimated. The
  engine's ratio below is the measured one;
- llama-server's `/metrics` (needs `--metrics`): `prompt_tokens_cached_total` (KV reused at
  each task's launch, every task: answered, cancelled, prefills) and `prompt_tokens_total`
  (evaluated): the engine's own hit ratio, cached / (cached + evaluated). `/slots` only shows
  the present, so it is not used;
- llama-server's log (INFO, `--log-timestamps`): per task id `processing task` (launched in
  a slot), the timing block ending in `total time =` (ran to its end: stop word, EOS,
  n_predict or t_max_predict_ms), `cancel task, id_task = N` (the HTTP side saw its client
  gone before the answer was done), `stop processing` (the slot let go of it) and
  `send_error: task id = N` (tools/server/server-context.cpp, server-queue.cpp);
- our client's request log (benchmarks/remote_serve.py): each `/completion` read to its end
  (`final`) or closed by us first (the editor's cancel, or our own stop rule or deadline).

Requests the engine ran after we had let go = tasks that ran to their end minus answers our
clients read to the end (exact counts on both sides; which task was which is not known) plus
tasks the server released when it saw the client gone (each ran from our close until then;
the log times how long the slot stayed busy after the server noticed, not since our close:
the two clocks are not aligned). Tasks cancelled while queued for a busy slot never ran.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.latency import Keystroke, pct  # noqa: E402

STAMP = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+) ")  # minutes.seconds.ms.us since start
TASK_LINE = re.compile(r"\| task (\d+) \| (.*)")
CANCEL_LINE = re.compile(r"cancel task, id_task = (\d+)")
ERROR_LINE = re.compile(r"task id = (\d+), error")
METRIC_LINE = re.compile(r"^llamacpp:(\w+)\s+(\S+)$")


@dataclass
class ServerTasks:
    """Task ids by fate, from a llama-server log."""

    launched: set[int] = field(default_factory=set)
    ran_to_end: set[int] = field(default_factory=set)
    client_gone: set[int] = field(default_factory=set)  # `cancel task` logged
    errors: set[int] = field(default_factory=set)
    noticed_at: dict[int, float] = field(default_factory=dict)  # s since the server started
    released_at: dict[int, float] = field(default_factory=dict)

    @property
    def stopped_on_cancel(self) -> set[int]:
        """Launched, released because the client was gone, before their end."""
        return (self.launched & self.client_gone) - self.ran_to_end - self.errors

    @property
    def dropped_before_launch(self) -> set[int]:
        """Cancelled while still queued (waiting for their slot): never ran."""
        return self.client_gone - self.launched

    def release_lag_ms(self) -> list[float]:
        """For tasks stopped on cancel: the server noticing the client gone -> the slot free."""
        return [
            (self.released_at[t] - self.noticed_at[t]) * 1000
            for t in sorted(self.stopped_on_cancel)
            if t in self.released_at and t in self.noticed_at
        ]


def _stamp(line: str) -> float | None:
    match = STAMP.match(line)
    if match is None:
        return None
    minutes, seconds, ms, us = (int(g) for g in match.groups())
    return minutes * 60 + seconds + ms / 1e3 + us / 1e6


def parse_server_log(text: str) -> ServerTasks:
    tasks = ServerTasks()
    for line in text.splitlines():
        at = _stamp(line)
        if (match := TASK_LINE.search(line)) is not None:
            task, message = int(match.group(1)), match.group(2).lstrip()
            if message.startswith("processing task"):
                tasks.launched.add(task)
            elif message.startswith("total time"):
                tasks.ran_to_end.add(task)
            elif message.startswith("stop processing") and at is not None:
                tasks.released_at[task] = at
        elif (match := CANCEL_LINE.search(line)) is not None:
            tasks.client_gone.add(int(match.group(1)))
            if at is not None:
                tasks.noticed_at[int(match.group(1))] = at
        elif (match := ERROR_LINE.search(line)) is not None:
            tasks.errors.add(int(match.group(1)))
    return tasks


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text from llama-server's /metrics: `llamacpp:<name> <value>` lines."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if (match := METRIC_LINE.match(line.strip())) is not None:
            values[match.group(1)] = float(match.group(2))
    return values


def ratio(part: float, whole: float) -> float:
    return round(part / whole, 3) if whole else float("nan")


def engine_hit_ratio(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Prompt tokens reused from the slots' caches over all prompt tokens, between two
    /metrics readings."""

    def grown(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    cached, evaluated = grown("prompt_tokens_cached_total"), grown("prompt_tokens_total")
    return {
        "engine_cached_tokens": int(cached),
        "engine_evaluated_tokens": int(evaluated),
        "engine_hit_ratio": ratio(cached, cached + evaluated),
    }


def answered_hit_ratio(stats: Iterable[dict[str, Any]]) -> float:
    """Reused / prompt tokens over the answered requests the engine served (not type-ahead)."""
    served = [s for s in stats if not s.get("fromCache")]
    reused = sum(s["promptTokensReused"] for s in served)
    evaluated = sum(s["promptTokensEvaluated"] for s in served)
    return ratio(reused, reused + evaluated)


def typing_columns(keys: Sequence[Keystroke], interval: float) -> dict[str, Any]:
    """On-screen share and keystroke-to-suggestion percentiles (as benchmarks/latency.py)."""
    latencies = [(k.answered - k.sent) * 1000 for k in keys if k.items and k.answered is not None]
    on_time = sum(1 for ms in latencies if ms <= interval * 1000)
    return {
        "keystrokes": len(keys),
        "on_screen_before_next_key": ratio(on_time, len(keys)),
        "p50_ms": round(pct(latencies, 50), 1),
        "p95_ms": round(pct(latencies, 95), 1),
    }


def request_columns(requests: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Our side of each /completion: sent, read to the end, closed by us (and why)."""
    final = sum(1 for r in requests if r["final"])
    cancelled = sum(1 for r in requests if not r["final"] and r["cancelled"])
    faults = sum(1 for r in requests if not r["final"] and not r["cancelled"] and r.get("error"))
    return {
        "requests": len(requests),
        "read_to_end": final,
        "closed_on_cancel": cancelled,
        "cancelled_unsent": sum(1 for r in requests if r.get("unsent")),  # of closed_on_cancel
        "closed_on_fault": faults,
        "closed_by_our_stop": len(requests) - final - cancelled - faults,
    }


def after_cancel_columns(tasks: ServerTasks, read_to_end: int) -> dict[str, Any]:
    """The engine's side: tasks run, and those it ran after our client had let go."""
    unread = max(0, len(tasks.ran_to_end) - read_to_end)
    stopped = len(tasks.stopped_on_cancel)
    lag = tasks.release_lag_ms()
    return {
        "engine_tasks": len(tasks.launched),
        "engine_ran_to_end": len(tasks.ran_to_end),
        "ran_to_end_unread": unread,
        "stopped_on_cancel": stopped,
        "ran_after_cancel": unread + stopped,
        "noticed_to_free_p50_ms": round(pct(lag, 50), 1),
        "noticed_to_free_max_ms": round(max(lag, default=float("nan")), 1),
        "dropped_before_launch": len(tasks.dropped_before_launch),
        "engine_errors": len(tasks.errors),
    }


@dataclass
class UserRun:
    """One simulated developer's records."""

    name: str
    slot: int
    keys: list[Keystroke] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


def user_row(user: UserRun, interval: float) -> dict[str, Any]:
    return {
        "user": user.name,
        "slot": user.slot,
        **typing_columns(user.keys, interval),
        "answered_hit_ratio": answered_hit_ratio(user.stats),
        **request_columns(user.requests),
    }


def load_row(
    users: Sequence[UserRun],
    interval: float,
    tasks: ServerTasks,
    metrics_before: dict[str, float],
    metrics_after: dict[str, float],
) -> dict[str, Any]:
    """One N: all developers together, the engine's hit ratio and after-cancel work."""
    keys = [k for u in users for k in u.keys]
    requests = [r for u in users for r in u.requests]
    row: dict[str, Any] = {"users": len(users), "user": "all", "slot": "-"}
    row |= typing_columns(keys, interval)
    row["answered_hit_ratio"] = answered_hit_ratio(s for u in users for s in u.stats)
    row |= engine_hit_ratio(metrics_before, metrics_after)
    row |= request_columns(requests)
    row |= after_cancel_columns(tasks, row["read_to_end"])
    p95s = [r["p95_ms"] for r in (user_row(u, interval) for u in users)]
    row["worst_user_p95_ms"] = max((p for p in p95s if not math.isnan(p)), default=float("nan"))
    row["per_user"] = [user_row(u, interval) for u in users]
    return row
