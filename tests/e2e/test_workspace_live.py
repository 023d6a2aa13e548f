"""Files created, edited, renamed and deleted on disk while the server runs show up in the
context of the next completion within a couple of seconds (watchdog-fed workspace index)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import ClientServerConfig

from tests.e2e.lsp_session import (
    SERVER_COMMAND,
    context_of_next_completion,
    initialize,
    open_document,
    wait_for_context,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

MAIN = "from pricing import compute_total\n\n\ndef checkout(cart):\n    total = compute_total("


def definition_texts(context: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["path"], c["text"]) for c in context if c["kind"] == "definition"]


async def test_context_follows_files_on_disk(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(MAIN)
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    stats: list[Any] = []

    client.feature("smallcode/completionStats")(lambda params: stats.append(params))
    try:
        # Type-ahead off: every request must build a fresh prompt.
        await initialize(
            client,
            {"maxTokens": 4, "debug": True, "typeahead": False, "prefetch": False},
            root=tmp_path,
        )
        await wait_for_state(client, "ready")
        uri = (tmp_path / "main.py").as_uri()
        open_document(client, uri, MAIN)
        assert not definition_texts(await context_of_next_completion(client, stats, uri, MAIN))

        pricing = tmp_path / "pricing.py"
        pricing.write_text(
            "def compute_total(items, tax_rate=0.2):\n"
            '    """Sum of prices with tax."""\n    return 0\n'
        )
        took, _ = await wait_for_context(
            client,
            stats,
            uri,
            MAIN,
            lambda c: any(
                path == "pricing.py" and "tax_rate=0.2" in text
                for path, text in definition_texts(c)
            ),
        )
        print(f"created: {took:.2f} s")

        pricing.write_text("def compute_total(items, discount=None):\n    return 0\n")
        took, _ = await wait_for_context(
            client,
            stats,
            uri,
            MAIN,
            lambda c: any("discount=None" in text for _, text in definition_texts(c)),
        )
        print(f"edited: {took:.2f} s")

        (tmp_path / "pkg").mkdir()
        pricing.rename(tmp_path / "pkg" / "pricing.py")
        took, _ = await wait_for_context(
            client,
            stats,
            uri,
            MAIN,
            lambda c: (
                any(path == "pkg/pricing.py" for path, _ in definition_texts(c))
                and not any(path == "pricing.py" for path, _ in definition_texts(c))
            ),
        )
        print(f"renamed: {took:.2f} s")

        (tmp_path / "pkg" / "pricing.py").unlink()
        took, _ = await wait_for_context(
            client, stats, uri, MAIN, lambda c: not definition_texts(c)
        )
        print(f"deleted: {took:.2f} s")
    finally:
        await client.shutdown_session()
        await client.stop()
