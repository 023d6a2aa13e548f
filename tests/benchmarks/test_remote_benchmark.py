"""benchmarks/remote.py's summaries on fake records: percentiles and on-screen share, the
prompt-cache hit ratios (answered requests' timings, the engine's /metrics), and the requests
the engine ran after our clients let go (llama-server's log against our request logs); and one
real smoke run of its load part (e2e)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.latency import Keystroke
from benchmarks.remote_stats import (
    UserRun,
    after_cancel_columns,
    answered_hit_ratio,
    engine_hit_ratio,
    load_row,
    parse_metrics,
    parse_server_log,
    request_columns,
    typing_columns,
)
from tests.e2e.llama_server import require_binary

ROOT = Path(__file__).resolve().parents[2]

# Lines as this llama-server build writes them (--log-prefix --log-timestamps), trimmed.
LOG = """\
0.14.021.048 I srv  llama_server: listening on http://127.0.0.1:38819
0.20.013.424 I slot get_availabl: id  1 | task -1 | selected slot by id (1)
0.20.013.474 I slot launch_slot_: id  1 | task 1 | processing task, is_child = 0
0.20.500.000 I slot print_timing: id  1 | task 1 | prompt eval time =  400.00 ms /  253 tokens
0.20.500.001 I slot print_timing: id  1 | task 1 |        eval time =   80.00 ms /    8 tokens
0.20.500.002 I slot print_timing: id  1 | task 1 |       total time =  480.00 ms /  261 tokens
0.20.500.003 I slot      release: id  1 | task 1 | stop processing: n_tokens = 260, truncated = 0
0.29.833.318 I slot launch_slot_: id  1 | task 8 | processing task, is_child = 0
0.30.841.114 W srv          stop: cancel task, id_task = 8
0.30.964.966 W srv          stop: cancel task, id_task = 10
0.34.982.376 I slot      release: id  1 | task 8 | stop processing: n_tokens = 252, truncated = 0
0.35.000.000 I slot launch_slot_: id  2 | task 12 | processing task, is_child = 0
0.35.100.000 E srv    send_error: task id = 12, error: input is too large
0.35.100.001 I slot      release: id  2 | task 12 | stop processing: n_tokens = 0, truncated = 0
1.02.000.000 I slot launch_slot_: id  0 | task 20 | processing task, is_child = 0
1.02.500.000 W srv          stop: cancel task, id_task = 20
1.02.600.000 I slot print_timing: id  0 | task 20 |       total time =  600.00 ms /  300 tokens
1.02.600.001 I slot      release: id  0 | task 20 | stop processing: n_tokens = 300, truncated = 0
"""

METRICS = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed, excluding cached tokens
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 1500
# HELP llamacpp:prompt_tokens_cached_total Number of prompt tokens reused from the cache
# TYPE llamacpp:prompt_tokens_cached_total counter
llamacpp:prompt_tokens_cached_total 4500
llamacpp:requests_deferred 0
"""


def key(sent: float, after_ms: float | None, items: int = 1) -> Keystroke:
    answered = None if after_ms is None else sent + after_ms / 1000
    return Keystroke(sent=sent, answered=answered, items=items)


def request(
    final: bool, cancelled: bool = False, error: str | None = None, unsent: bool = False
) -> dict:
    return {"final": final, "cancelled": cancelled, "error": error, "unsent": unsent}


def test_typing_columns_percentiles_and_on_screen_share() -> None:
    keys = [key(i, ms) for i, ms in enumerate([10, 20, 30, 40, 200, 500])]
    keys += [key(7, 5, items=0), key(8, None)]  # an empty answer, a cancelled one
    row = typing_columns(keys, interval=0.125)
    assert row["keystrokes"] == 8
    assert row["on_screen_before_next_key"] == round(4 / 8, 3)  # <= 125 ms and non-empty
    assert row["p50_ms"] == 30.0  # nearest rank over the 6 shown, as benchmarks/latency.py
    assert row["p95_ms"] == 500.0
    empty = typing_columns([key(0, None)], interval=0.125)
    assert empty["on_screen_before_next_key"] == 0.0 and math.isnan(empty["p50_ms"])


def test_answered_hit_ratio_skips_type_ahead_answers() -> None:
    stats = [
        {"promptTokensReused": 90, "promptTokensEvaluated": 10, "fromCache": False},
        {"promptTokensReused": 0, "promptTokensEvaluated": 100, "fromCache": False},
        {"promptTokensReused": 0, "promptTokensEvaluated": 0, "fromCache": True},
    ]
    assert answered_hit_ratio(stats) == 0.45
    assert math.isnan(answered_hit_ratio([]))


def test_engine_hit_ratio_from_metrics_difference() -> None:
    after = parse_metrics(METRICS)
    assert after == {
        "prompt_tokens_total": 1500.0,
        "prompt_tokens_cached_total": 4500.0,
        "requests_deferred": 0.0,
    }
    before = {"prompt_tokens_total": 500.0, "prompt_tokens_cached_total": 1500.0}
    row = engine_hit_ratio(before, after)
    assert row == {
        "engine_cached_tokens": 3000,
        "engine_evaluated_tokens": 1000,
        "engine_hit_ratio": 0.75,
    }


def test_server_log_fates() -> None:
    tasks = parse_server_log(LOG)
    assert tasks.launched == {1, 8, 12, 20}
    assert tasks.ran_to_end == {1, 20}  # 20 finished although its client had gone
    assert tasks.client_gone == {8, 10, 20}
    assert tasks.errors == {12}
    assert tasks.stopped_on_cancel == {8}
    assert tasks.dropped_before_launch == {10}  # cancelled while queued for its slot
    (lag,) = tasks.release_lag_ms()
    assert abs(lag - (34.982376 - 30.841114) * 1000) < 1e-6
    assert tasks.noticed_at[20] == 62.5  # minutes count: 1.02.500 is 62.5 s


def test_requests_and_after_cancel_columns() -> None:
    requests = [
        request(True),
        request(False, cancelled=True, error="Cancelled"),
        request(False, cancelled=True, error="Cancelled", unsent=True),
        request(False, error="Unreachable"),
        request(False),  # our stop rule closed it
    ]
    ours = request_columns(requests)
    assert ours == {
        "requests": 5,
        "read_to_end": 1,
        "closed_on_cancel": 2,
        "cancelled_unsent": 1,
        "closed_on_fault": 1,
        "closed_by_our_stop": 1,
    }
    row = after_cancel_columns(parse_server_log(LOG), ours["read_to_end"])
    assert row["engine_tasks"] == 4
    assert row["engine_ran_to_end"] == 2
    assert row["ran_to_end_unread"] == 1  # 2 ran to their end, 1 answer was read
    assert row["stopped_on_cancel"] == 1
    assert row["ran_after_cancel"] == 2
    assert row["dropped_before_launch"] == 1
    assert row["engine_errors"] == 1
    assert row["noticed_to_free_p50_ms"] == round((34.982376 - 30.841114) * 1000, 1)


def test_load_row_overall_and_per_user() -> None:
    fast = UserRun("dev-1", 0, [key(0, 50), key(1, 60)], requests=[request(True)])
    slow = UserRun("dev-2", 2, [key(0, 300), key(1, None)], requests=[request(False, True)])
    fast.stats = [{"promptTokensReused": 30, "promptTokensEvaluated": 10, "fromCache": False}]
    row = load_row([fast, slow], 0.125, parse_server_log(LOG), {}, parse_metrics(METRICS))
    assert row["users"] == 2 and row["keystrokes"] == 4
    assert row["on_screen_before_next_key"] == 0.5
    assert row["answered_hit_ratio"] == 0.75
    assert row["engine_hit_ratio"] == 0.75
    assert row["requests"] == 2 and row["read_to_end"] == 1
    assert row["worst_user_p95_ms"] == 300.0
    users = {u["user"]: u for u in row["per_user"]}
    assert users["dev-1"]["slot"] == 0 and users["dev-1"]["p95_ms"] == 60.0
    assert users["dev-2"]["on_screen_before_next_key"] == 0.0
    assert users["dev-2"]["closed_on_cancel"] == 1


@pytest.mark.e2e
def test_smoke_load_run_against_a_real_llama_server(tmp_path: Path) -> None:
    """`benchmarks/remote.py --smoke --parts load --users 1`: one developer typing 4 keys
    against a real 4-slot llama-server (~20 s on an idle 2-core machine)."""
    require_binary()
    out = tmp_path / "remote.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "remote.py"), "--smoke"]
    command += ["--parts", "load", "--users", "1", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| 1 | dev-1 |" in done.stdout
    (row,) = json.loads(out.read_text())["load"]
    assert row["users"] == 1 and row["keystrokes"] == 4
    assert row["requests"] >= 1 and row["engine_tasks"] >= 1
    assert row["requests"] == row["read_to_end"] + row["closed_on_cancel"] + (
        row["closed_on_fault"] + row["closed_by_our_stop"]
    )
    assert 0 <= row["engine_hit_ratio"] <= 1 or math.isnan(row["engine_hit_ratio"])
