"""Files created, edited, renamed and deleted on disk while the server runs show up in the
context of the next completion within a couple of seconds (watchdog-fed workspace index)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.lsp_session import (
    SERVER_COMMAND,
    initialize,
    inline_completion,
    open_document,
    wait_for_state,
)

pytestmark = pytest.mark.e2e

MAIN = "from pricing import compute_total\n\n\ndef checkout(cart):\n    total = compute_total("


async def context_of_next_completion(
    client: LanguageClient, stats: list[dict[str, Any]], uri: str
) -> list[dict[str, Any]]:
    stats.clear()
    lines = MAIN.split("\n")
    await inline_completion(client, uri, len(lines) - 1, len(lines[-1]))
    for _ in range(100):
        if stats:
            break
        await asyncio.sleep(0.02)
    return [
        dict(item._asdict()) if hasattr(item, "_asdict") else item for item in stats[-1]["context"]
    ]


async def wait_for_context(client, stats, uri, predicate, timeout: float = 5.0) -> float:
    """Seconds until the next completion's context satisfies `predicate`."""
    start = time.monotonic()
    while True:
        context = await context_of_next_completion(client, stats, uri)
        if predicate(context):
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, f"context never changed: {context}"
        await asyncio.sleep(0.2)


def definition_texts(context: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["path"], c["text"]) for c in context if c["kind"] == "definition"]


async def test_context_follows_files_on_disk(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(MAIN)
    client = await ClientServerConfig(server_command=SERVER_COMMAND).start()
    stats: list[dict[str, Any]] = []

    def on_stats(params: Any) -> None:
        stats.append(dict(params._asdict()) if hasattr(params, "_asdict") else params)

    client.feature("smallcode/completionStats")(on_stats)
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
        assert not definition_texts(await context_of_next_completion(client, stats, uri))

        pricing = tmp_path / "pricing.py"
        pricing.write_text(
            "def compute_total(items, tax_rate=0.2):\n"
            '    """Sum of prices with tax."""\n    return 0\n'
        )
        took = await wait_for_context(
            client,
            stats,
            uri,
            lambda c: any(
                path == "pricing.py" and "tax_rate=0.2" in text
                for path, text in definition_texts(c)
            ),
        )
        print(f"created: {took:.2f} s")

        pricing.write_text("def compute_total(items, discount=None):\n    return 0\n")
        took = await wait_for_context(
            client,
            stats,
            uri,
            lambda c: any("discount=None" in text for _, text in definition_texts(c)),
        )
        print(f"edited: {took:.2f} s")

        (tmp_path / "pkg").mkdir()
        pricing.rename(tmp_path / "pkg" / "pricing.py")
        took = await wait_for_context(
            client,
            stats,
            uri,
            lambda c: (
                any(path == "pkg/pricing.py" for path, _ in definition_texts(c))
                and not any(path == "pricing.py" for path, _ in definition_texts(c))
            ),
        )
        print(f"renamed: {took:.2f} s")

        (tmp_path / "pkg" / "pricing.py").unlink()
        took = await wait_for_context(client, stats, uri, lambda c: not definition_texts(c))
        print(f"deleted: {took:.2f} s")
    finally:
        await client.shutdown_session()
        await client.stop()
