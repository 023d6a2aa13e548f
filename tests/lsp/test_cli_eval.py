"""`smallcode-lsp eval` runs real fill-in-the-middle tasks through the pipeline, both modes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "py_json"


def test_eval_prints_both_modes(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "smallcode_lsp.cli",
            "eval",
            str(FIXTURES),
            "--limit",
            "3",
            "--max-tokens",
            "24",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| baseline (prefix" in proc.stdout and ", no deadline) | all | 3 |" in proc.stdout
    assert "| context + shaping, automatic, cold | all | 3 |" in proc.stdout
    assert "| context + shaping, invoked, cold | all | 3 |" in proc.stdout
    results = json.loads(out.read_text())
    for run in results.values():
        assert run["tasks"] == 3
        assert run["failed"] == 0
        assert 0.0 <= run["edit_similarity"] <= 1.0


def test_eval_curve_naive_beside_ours_and_a_dwell_answered_from_the_warm_up(
    tmp_path: Path,
) -> None:
    """--curve: per budget the naive prompt and ours; after a dwell the spot was warmed while
    the cursor rested, so the request is answered from the warm-up's answer (as the server's
    type-ahead cache does)."""
    out = tmp_path / "curve.json"
    proc = subprocess.run(
        [sys.executable, "-m", "smallcode_lsp.cli", "eval", str(FIXTURES), "--limit", "3",
         "--max-tokens", "24", "--curve", "--budgets", "0.25,0", "--dwells", "2",
         "--json", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| naive prefix prompt, automatic, 0.25 s | all | 3 |" in proc.stdout
    assert "| context + shaping, automatic, no deadline | all | 3 |" in proc.stdout
    assert "| 1 s after a 2 s dwell |" in proc.stdout
    assert "ours >= naive at 0.25 s: " in proc.stdout
    assert "invoked vs the naive full prompt: " in proc.stdout
    results = json.loads(out.read_text())
    rested = results["context + shaping, automatic, 1 s, after a 2 s dwell"]
    assert rested["dwell_ms"] == 2000 and rested["tasks"] == 3 and rested["failed"] == 0
    # A 2 s rest is time to prefill and answer there (an answer cut short goes on at the request)
    assert rested["warm_answers"] + rested["warm_continued"] >= 1
    cold = results["context + shaping, automatic, 0.25 s"]
    assert cold["warm_answers"] == 0 and cold["latency_budget_ms"] == 250
