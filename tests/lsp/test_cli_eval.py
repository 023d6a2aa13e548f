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
        [sys.executable, "-m", "smallcode_lsp.cli", "eval", str(FIXTURES), "--limit", "3",
         "--max-tokens", "24", "--json", str(out)],
        capture_output=True, text=True, timeout=900,
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
