"""A model that cannot load: a clear message, empty answers, the server stays up and recovers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp_session import (
    SERVER_COMMAND,
    initialize,
    inline_completion,
    open_document,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e]


async def start(options: dict) -> LanguageClient:
    from pytest_lsp import ClientServerConfig

    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    await initialize(client, options)
    return client


def error_messages(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == lsp.MessageType.Error]


@pytest.mark.parametrize(
    ("make_model", "expected"),
    [
        (lambda tmp: tmp / "missing.gguf", "not found"),
        (lambda tmp: _write(tmp / "notes.gguf", b"just some text, not a model\n"), "not a GGUF"),
        (lambda tmp: _truncated_copy(tmp), "GGUF"),
    ],
    ids=["missing", "not-gguf", "truncated"],
)
async def test_bad_model_reports_and_keeps_serving(
    tmp_path: Path, default_model: str, make_model, expected: str
) -> None:
    model = make_model(tmp_path)
    client = await start({"model": str(model)})
    try:
        current = await wait_for_state(client, "error", "ready")
        assert current["state"] == "error"
        assert expected in current["error"]
        for _ in range(100):  # the message follows the state change
            if any(expected in m for m in error_messages(client)):
                break
            await asyncio.sleep(0.05)
        assert any(expected in m for m in error_messages(client))
        uri = "file:///virtual/a.py"
        open_document(client, uri, "def add(a, b):\n    ")
        assert await inline_completion(client, uri, 1, 4) is None
        # Fixing the setting reloads and completions come back.
        client.workspace_did_change_configuration(
            lsp.DidChangeConfigurationParams(settings={"smallcode": {"model": default_model}})
        )
        await wait_for_state(client, "ready")
        result = await inline_completion(client, uri, 1, 4)
        assert result is not None and result.items
    finally:
        await client.shutdown_session()
        await client.stop()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated_copy(tmp: Path) -> Path:
    from smallcode_lsp.default_model import default_model_path

    data = Path(default_model_path()).read_bytes()[: 4 << 20]
    return _write(tmp / "truncated.gguf", data)
