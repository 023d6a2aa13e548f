"""What the model is shown comes from the workspace and the open document only: a symlink to
code outside the workspace never reaches the prompt, while inside definitions do (control)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import ClientServerConfig

from tests.e2e.lsp_session import (
    SERVER_COMMAND,
    initialize,
    open_document,
    wait_for_context,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

MAIN = (
    "from helpers import inside_helper\nfrom secrets_link import outside_helper\n\n\n"
    "def run(x):\n    a = inside_helper(x)\n    b = outside_helper("
)


async def test_outside_code_never_reaches_the_prompt(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "main.py").write_text(MAIN)
    (workspace / "helpers.py").write_text("def inside_helper(x, INSIDE_MARK=1):\n    return x\n")
    (outside / "secret.py").write_text("def outside_helper(x, OUTSIDE_SECRET=1):\n    return x\n")
    (workspace / "secrets_link.py").symlink_to(outside / "secret.py")
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    stats: list[Any] = []
    client.feature("smallcode/completionStats")(lambda params: stats.append(params))
    try:
        await initialize(
            client,
            {"maxTokens": 4, "debug": True, "typeahead": False, "prefetch": False},
            root=workspace,
        )
        await wait_for_state(client, "ready")
        uri = (workspace / "main.py").as_uri()
        open_document(client, uri, MAIN)
        _, context = await wait_for_context(  # until the index has the inside file (the control)
            client,
            stats,
            uri,
            MAIN,
            lambda c: any("INSIDE_MARK" in s["text"] for s in c),
            timeout=20,
            interval=0.3,
        )
        for snippet in context:
            assert "OUTSIDE_SECRET" not in snippet["text"]
            assert not snippet["path"].startswith(("/", "..")), snippet["path"]
    finally:
        await client.shutdown_session()
        await client.stop()
