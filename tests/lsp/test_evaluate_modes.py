"""`smallcode-lsp eval` modes: run names, trigger deadlines, deltas vs the baseline, CLI."""

from __future__ import annotations

import pytest

from smallcode_lsp.cli import _settings, build_parser
from smallcode_lsp.evaluate import (
    TRIGGER_CHOICES,
    FimTask,
    curve_runs,
    eval_runs,
    format_curve,
    format_summary,
    format_table,
    run_eval,
    timed_request,
    versus,
)
from smallcode_lsp.options import setting_spec
from smallcode_lsp.types import CompletionRequest, Trigger

TASK = FimTask("/x/a.py", "python", "x = \n", 4, "1", "line")
BOTH = (Trigger.AUTOMATIC, Trigger.INVOKED)


def _result(exact: float, similarity: float, p50: float, p95: float) -> dict:
    return {
        "tasks": 6,
        "exact_match": exact,
        "edit_similarity": similarity,
        "syntax_valid": 1.0,
        "empty": 0.0,
        "failed": 0.0,
        "latency_ms_p50": p50,
        "latency_ms_p95": p95,
    }


def test_runs_baseline_first_then_full_plan_per_trigger() -> None:
    runs = eval_runs(BOTH, cold=True, fim=False)
    assert [r.name for r in runs] == [
        "baseline (prefix only, no deadline)",
        "context + shaping, automatic, cold",
        "context + shaping, invoked, cold",
    ]
    assert [(r.full, r.trigger) for r in runs] == [
        (False, Trigger.INVOKED),
        (True, Trigger.AUTOMATIC),
        (True, Trigger.INVOKED),
    ]
    warm = eval_runs((Trigger.INVOKED,), cold=False, fim=True)
    assert [r.name for r in warm] == [
        "baseline (prefix/suffix only, no deadline)",
        "context + shaping, invoked, warm",
    ]


def test_automatic_request_gets_the_budget_as_deadline_invoked_none() -> None:
    request = TASK.request()
    automatic = timed_request(request, Trigger.AUTOMATIC, 1000, now=50.0)
    assert automatic.trigger is Trigger.AUTOMATIC
    assert automatic.deadline == pytest.approx(51.0)
    invoked = timed_request(request, Trigger.INVOKED, 1000, now=50.0)
    assert invoked.trigger is Trigger.INVOKED and invoked.deadline is None
    # A budget of 0 turns the deadline off, as in the server.
    assert timed_request(request, Trigger.AUTOMATIC, 0, now=50.0).deadline is None
    assert automatic.document is request.document and automatic.offset == request.offset


def test_deltas_are_points_over_the_baseline() -> None:
    d = versus(_result(0.25, 0.5, 1, 1), _result(0.10, 0.45, 1, 1))
    assert d["exact_match_points"] == pytest.approx(15.0)
    assert d["edit_similarity_points"] == pytest.approx(5.0)
    assert versus(_result(0.0, 0.2, 1, 1), _result(0.1, 0.4, 1, 1))["exact_match_points"] < 0


def test_summary_one_line_per_run_under_the_table() -> None:
    results = {
        "baseline (prefix only, no deadline)": _result(0.1, 0.4, 900, 2000),
        "context + shaping, automatic, cold": _result(0.2, 0.45, 1200, 1500),
        "context + shaping, invoked, cold": _result(0.05, 0.35, 3000, 4000),
    }
    lines = format_summary(results, "baseline (prefix only, no deadline)").splitlines()
    assert lines == [
        "baseline (prefix only, no deadline): latency p50 900 ms, p95 2000 ms",
        "context + shaping, automatic, cold: exact match +10.0 points, edit similarity "
        "+5.0 points vs baseline; latency p50 1200 ms, p95 1500 ms",
        "context + shaping, invoked, cold: exact match -5.0 points, edit similarity "
        "-5.0 points vs baseline; latency p50 3000 ms, p95 4000 ms",
    ]
    table = format_table(results)
    assert "| context + shaping, automatic, cold | all | 6 | 20.0% |" in table


def test_before_each_runs_before_every_task_untimed() -> None:
    calls: list[str] = []

    def complete(request: CompletionRequest) -> str:
        calls.append("complete")
        return "1"

    result = run_eval(
        [TASK, TASK], complete, before_each=lambda task: calls.append(f"clear {task.offset}")
    )
    assert calls == ["clear 4", "complete", "clear 4", "complete"]
    assert result["exact_match"] == 1.0


def test_cli_eval_defaults_and_flags() -> None:
    parser = build_parser()
    args = parser.parse_args(["eval", "src"])
    assert args.trigger == "both" and args.cold is True
    assert TRIGGER_CHOICES[args.trigger] == BOTH
    default_budget = setting_spec("latencyBudgetMs").default
    assert default_budget > 0
    assert _settings(args).completion.latency_budget_ms == default_budget
    args = parser.parse_args(
        ["eval", "src", "--trigger", "automatic", "--warm", "--latency-budget-ms", "700"]
    )
    assert TRIGGER_CHOICES[args.trigger] == (Trigger.AUTOMATIC,) and args.cold is False
    assert _settings(args).completion.latency_budget_ms == 700
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "src", "--cold", "--warm"])
    # `complete` still shows the whole suggestion: no deadline.
    complete = parser.parse_args(["complete", "a.py:1:1"])
    assert _settings(complete).completion.latency_budget_ms == 0
    for choice in TRIGGER_CHOICES:  # the parser offers every choice evaluate.py knows
        assert parser.parse_args(["eval", "src", "--trigger", choice]).trigger == choice


def test_curve_runs_pair_naive_and_ours_per_budget_then_dwells_then_invoked() -> None:
    runs = curve_runs((250, 0), (1000,), budget_ms=1000, fim=False)
    assert [(r.name, r.full, r.trigger, r.budget_ms, r.dwell_ms) for r in runs] == [
        ("naive prefix prompt, automatic, 0.25 s", False, Trigger.AUTOMATIC, 250, 0),
        ("context + shaping, automatic, 0.25 s", True, Trigger.AUTOMATIC, 250, 0),
        ("naive prefix prompt, automatic, no deadline", False, Trigger.AUTOMATIC, 0, 0),
        ("context + shaping, automatic, no deadline", True, Trigger.AUTOMATIC, 0, 0),
        ("context + shaping, automatic, 1 s, after a 1 s dwell",
         True, Trigger.AUTOMATIC, 1000, 1000),
        ("context + shaping, invoked", True, Trigger.INVOKED, None, 0),
    ]  # fmt: skip


def test_curve_table_and_target_checks() -> None:
    runs = curve_runs((250, 0), (1000,), budget_ms=1000, fim=False)
    figures = [
        _result(0.10, 0.4, 200, 300),  # naive 0.25 s
        _result(0.05, 0.4, 240, 300),  # ours 0.25 s: below naive
        _result(0.10, 0.4, 5000, 6000),  # naive, no deadline
        _result(0.25, 0.5, 3000, 4000),  # ours, no deadline
        _result(0.20, 0.5, 120, 200),  # ours after a 1 s dwell
        _result(0.21, 0.5, 2500, 3000),  # invoked
    ]
    text = format_curve(runs, {r.name: f for r, f in zip(runs, figures, strict=True)})
    assert "| 0.25 s | 10.0% | 100.0% | 200 | 5.0% | 100.0% | 240 | -5.0 |" in text
    assert "| 1 s after a 1 s dwell | - | - | - | 20.0% | 100.0% | 120 | - |" in text
    assert "ours >= naive at 0.25 s: missed" in text
    assert "ours >= naive at no deadline: met" in text
    assert (
        "automatic after a 1 s dwell: 1.0 points below invoked (target <= 2: met), p50 120 ms "
        "(target <= 300: met), syntax ok 100.0% (target >= 95%: met)"
    ) in text
    assert "invoked vs the naive full prompt: +11.0 points (target >= +10: met)" in text


def test_cli_curve_flags_in_seconds() -> None:
    parser = build_parser()
    args = parser.parse_args(["eval", "src", "--curve", "--budgets", "0.25,1,0", "--dwells", "2"])
    assert args.curve and args.budgets == (250, 1000, 0) and args.dwells == (2000,)
    assert parser.parse_args(["eval", "src"]).curve is False
    for bad in ("x", "-1", ","):
        with pytest.raises(SystemExit):
            parser.parse_args(["eval", "src", "--budgets", bad])
