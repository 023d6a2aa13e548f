"""The layering contracts of pyproject.toml ([tool.importlinter]) hold, and they catch a break.

Each broken case copies the package into a temporary folder, adds one offending import, and
runs import-linter on the copy: the contract that names the rule must fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
RUN = "import sys; from importlinter.cli import lint_imports_command as run; sys.exit(run())"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the package found first on the path from `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", RUN, "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


# (module to write or append to, the import it gains, the contract that must break)
BREAKS = [
    (
        "engine/remote/stray.py",
        "import llama_cpp\n",
        "Only the in-process engine imports llama_cpp",
    ),
    (
        "options.py",
        "from smallcode_lsp.engine.local import model as _model\n",
        "never reach llama.cpp",
    ),
    (
        "engine/remote/stray.py",
        "from smallcode_lsp.engine.local.kv_cache import KVCache\n",
        "Engine floors",
    ),
    (
        "context/stray.py",
        "from smallcode_lsp.service import CompletionService\n",
        "Top-level floors",
    ),
    (
        "workspace/watch.py",
        "from smallcode_lsp.workspace import index as _index\n",
        "No import cycles",
    ),
]


@pytest.mark.parametrize(("module", "line", "contract"), BREAKS)
def test_a_broken_rule_fails_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    shutil.copytree(
        ROOT / "smallcode_lsp",
        tmp_path / "smallcode_lsp",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "smallcode_lsp" / module
    text = target.read_text() if target.exists() else '"""A module that breaks a rule."""\n'
    target.write_text(text + line)
    done = lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout
    assert any(contract in name for name in broken_contracts(done.stdout)), done.stdout


def broken_contracts(report: str) -> list[str]:
    """The names of the broken contracts in lint-imports' summary (it wraps long names)."""
    summary = " ".join(report.split()).split("dependencies.")[-1].split("Contracts:")[0]
    rows = re.findall(r"(.+?) (KEPT|BROKEN)(?= |$)", summary.strip(" -"))
    return [name.strip() for name, status in rows if status == "BROKEN"]
