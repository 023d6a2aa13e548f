"""Confinement of the workspace index: hostile symlinks and paths never pull outside files in.

Also: the scan never executes workspace code, never writes into the workspace, and terminates
on symlink loops and FIFOs (a blocking read would hang the index thread forever).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from smallcode_lsp.workspace.index import WorkspaceIndex

SECRET = "def leaked_secret_function():\n    return 'outside the workspace'\n"
PAYLOAD = (
    "import pathlib\n"
    "pathlib.Path({marker!r}).write_text('executed')\n"
    "def inside_function():\n    return 1\n"
)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace full of traps, and a directory outside it holding a secret."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(SECRET)
    (outside / "pkg").mkdir()
    (outside / "pkg" / "mod.py").write_text(SECRET)
    root = tmp_path / "workspace"
    root.mkdir()
    marker = tmp_path / "executed.txt"
    (root / "main.py").write_text(PAYLOAD.format(marker=str(marker)))
    (root / "setup.py").write_text(PAYLOAD.format(marker=str(marker)))
    (root / "link_to_secret.py").symlink_to(outside / "secret.py")
    (root / "linked_dir").symlink_to(outside / "pkg", target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    (root / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo.py")
    (root / "sub").mkdir()
    (root / "sub" / "up.py").symlink_to(Path("..") / ".." / "outside" / "secret.py")
    return root, outside


def scanned(root: Path) -> WorkspaceIndex:
    index = WorkspaceIndex([str(root)], watch=False)
    started = time.monotonic()
    index.start()
    assert index.ready.wait(30), "the scan did not finish (a FIFO or a symlink loop?)"
    assert time.monotonic() - started < 30
    return index


def test_scan_indexes_only_files_under_the_root(hostile: tuple[Path, Path]) -> None:
    root, _outside = hostile
    index = scanned(root)
    try:
        real_root = os.path.realpath(root)
        assert index.files(), "nothing indexed: the test proves nothing"
        assert all(f.startswith(real_root + os.sep) for f in index.files()), index.files()
        assert index.lookup("leaked_secret_function") == []
        assert index.lookup("inside_function")
    finally:
        index.stop()


def test_scan_never_executes_or_writes(hostile: tuple[Path, Path]) -> None:
    root, _outside = hostile
    before = sorted(str(p) for p in root.rglob("*") if not p.is_symlink())
    index = scanned(root)
    index.stop()
    assert not (root.parent / "executed.txt").exists()
    assert sorted(str(p) for p in root.rglob("*") if not p.is_symlink()) == before


@pytest.mark.parametrize(
    "relative",
    [
        "../outside/secret.py",
        "link_to_secret.py",
        "linked_dir/mod.py",
        "sub/up.py",
        "sub/../../outside/secret.py",
        "zero.py",
        "fifo.py",
    ],
)
def test_live_updates_refuse_paths_outside_the_root(
    hostile: tuple[Path, Path], relative: str
) -> None:
    """What the watcher (or a caller) passes in is checked the same way as the scan."""
    root, _outside = hostile
    index = WorkspaceIndex([str(root)], watch=False)
    started = time.monotonic()
    assert index.update_file(str(root / relative)) is False
    assert time.monotonic() - started < 5
    assert index.lookup("leaked_secret_function") == []
    assert index.files() == []


def test_absolute_path_outside_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    index = WorkspaceIndex([str(root)], watch=False)
    assert index.update_file("/etc/passwd") is False
    assert index.update_file(str(Path(__file__).resolve())) is False
    assert index.files() == []


def test_a_symlinked_root_is_still_the_workspace(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.py").write_text("def inside_function():\n    return 1\n")
    alias = tmp_path / "alias"
    alias.symlink_to(real, target_is_directory=True)
    index = scanned(alias)
    try:
        assert index.lookup("inside_function")
    finally:
        index.stop()
