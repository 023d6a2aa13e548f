"""Evaluation helpers: tasks from real code, scorers, aggregation."""

from __future__ import annotations

from pathlib import Path

from smallcode_lsp.evaluate import (
    FimTask,
    build_tasks,
    edit_similarity,
    exact_match,
    format_table,
    run_eval,
    syntax_valid,
)
from smallcode_lsp.types import CompletionRequest

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_tasks_are_real_holes_and_deterministic() -> None:
    tasks = build_tasks(str(FIXTURES), limit=24, seed=7)
    assert len(tasks) == 24
    assert {t.kind for t in tasks} == {"line", "block"}
    assert tasks == build_tasks(str(FIXTURES), limit=24, seed=7)
    assert tasks != build_tasks(str(FIXTURES), limit=24, seed=8)
    for t in tasks:
        original = Path(t.path).read_text()
        assert t.text[: t.offset] + t.expected + t.text[t.offset :] == original
        assert t.expected.strip()
        if t.kind == "line":
            assert "\n" not in t.expected
        else:
            assert "\n" in t.expected


def test_scorers() -> None:
    assert exact_match("  return x  \n", "return x")
    assert not exact_match("return y", "return x")
    assert edit_similarity("return x", "return x") == 1.0
    assert 0.8 < edit_similarity("return x", "return y") < 1.0
    assert edit_similarity("", "abc") == 0.0
    assert syntax_valid("python", "def f():\n    return 1\n")
    assert not syntax_valid("python", "def f(:\n")
    assert syntax_valid("plaintext", "anything (")


def test_run_eval_oracle_and_empty() -> None:
    tasks = build_tasks(str(FIXTURES), limit=10, seed=1)
    answers = {(t.path, t.offset): t.expected for t in tasks}

    def oracle(req: CompletionRequest) -> str:
        return answers[(req.document.path, req.offset)]

    perfect = run_eval(tasks, oracle)
    assert perfect["tasks"] == 10
    assert perfect["exact_match"] == 1.0 and perfect["edit_similarity"] == 1.0
    assert perfect["syntax_valid"] == 1.0
    assert set(perfect["by_kind"]) == {"line", "block"}
    assert perfect["latency_ms_p95"] >= perfect["latency_ms_p50"] >= 0

    def failing(req: CompletionRequest) -> str:
        raise RuntimeError("model gone")

    broken = run_eval(tasks, failing)
    assert broken["exact_match"] == 0.0 and broken["failed"] == 1.0 and broken["empty"] == 1.0


def test_task_request_is_a_completion_request() -> None:
    t = FimTask("/x/a.py", "python", "x = \n", 4, "1", "line")
    req = t.request()
    assert req.prefix == "x = " and req.document.language_id == "python"


def test_format_table() -> None:
    tasks = build_tasks(str(FIXTURES), limit=6, seed=2)
    res = run_eval(tasks, lambda req: "")
    table = format_table({"off": res})
    assert table.splitlines()[0].startswith("| run | kind |")
    assert "| off | all | 6 | 0.0% |" in table
