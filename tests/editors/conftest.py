"""Fixtures for the editor-client tests."""

from __future__ import annotations

import pytest
from editor_env import find_server, missing


@pytest.fixture(scope="session")
def server_path() -> str:
    path = find_server()
    if path is None:
        missing("smallcode-lsp is not installed in this environment")
    assert path is not None
    return path
