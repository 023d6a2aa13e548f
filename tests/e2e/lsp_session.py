"""Helpers for end-to-end tests: a real `smallcode-lsp serve` subprocess and pygls' client."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER_COMMAND = [sys.executable, "-m", "smallcode_lsp.cli", "serve", "--log-level", "INFO"]
SHAPES = Path(__file__).resolve().parents[2] / "examples" / "shapes.py"


def shapes_body_line(lines: list[str]) -> int:
    """The empty body line of `Circle.circumference` in examples/shapes.py."""
    line = next(i for i, s in enumerate(lines) if "Length of the circle's boundary" in s) + 1
    assert lines[line].strip() == ""
    return line


def with_inserted(lines: list[str], line: int, column: int, text: str) -> str:
    """The file of `lines` with `text` inserted at (line, column)."""
    here = lines[line]
    return "\n".join([*lines[:line], here[:column] + text + here[column:], *lines[line + 1 :]])


def server_config(*extra: str) -> ClientServerConfig:
    return ClientServerConfig(server_command=[*SERVER_COMMAND, *extra])


def capabilities() -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        window=lsp.WindowClientCapabilities(work_done_progress=True),
        text_document=lsp.TextDocumentClientCapabilities(
            inline_completion=lsp.InlineCompletionClientCapabilities(),
            synchronization=lsp.TextDocumentSyncClientCapabilities(),
        ),
    )


async def initialize(
    client: LanguageClient, options: dict[str, Any] | None = None, root: Path | None = None
) -> lsp.InitializeResult:
    return await client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            initialization_options=options or {},
            root_uri=root.as_uri() if root else None,
        )
    )


async def status(client: LanguageClient) -> dict[str, Any]:
    result = await client.protocol.send_request_async("smallcode/status", {})
    return _plain(result)


def _plain(value: Any) -> Any:
    """pygls hands custom results back as namedtuple-like objects; make them dicts."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def wait_for_state(client: LanguageClient, *states: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = await status(client)
        if current["state"] in states:
            return current
        if time.monotonic() > deadline:
            raise TimeoutError(f"server state {current['state']!r}, wanted {states}")
        await asyncio.sleep(0.05)


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        )
    )


def insert_text(
    client: LanguageClient, uri: str, version: int, line: int, character: int, text: str
) -> None:
    position = lsp.Position(line=line, character=character)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=position, end=position), text=text
                )
            ],
        )
    )


def inline_params(
    uri: str,
    line: int,
    character: int,
    kind: lsp.InlineCompletionTriggerKind = lsp.InlineCompletionTriggerKind.Automatic,
) -> lsp.InlineCompletionParams:
    return lsp.InlineCompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=line, character=character),
        context=lsp.InlineCompletionContext(trigger_kind=kind),
    )


async def inline_completion(
    client: LanguageClient,
    uri: str,
    line: int,
    character: int,
    kind: lsp.InlineCompletionTriggerKind = (lsp.InlineCompletionTriggerKind.Automatic),
) -> lsp.InlineCompletionList | None:
    result = await client.text_document_inline_completion_async(
        inline_params(uri, line, character, kind)
    )
    assert result is None or isinstance(result, lsp.InlineCompletionList)
    return result


def send_inline_request(
    client: LanguageClient,
    uri: str,
    line: int,
    character: int,
    kind: lsp.InlineCompletionTriggerKind = lsp.InlineCompletionTriggerKind.Automatic,
) -> tuple[str, asyncio.Future]:
    """Send a request with a known id (so a test can $/cancelRequest it)."""
    msg_id = str(uuid.uuid4())
    future = client.protocol.send_request(
        lsp.TEXT_DOCUMENT_INLINE_COMPLETION,
        inline_params(uri, line, character, kind),
        msg_id=msg_id,
    )
    return msg_id, asyncio.wrap_future(future)


def cancel_request(client: LanguageClient, msg_id: str) -> None:
    client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=msg_id))


async def wait_for_context(
    client: LanguageClient,
    stats: list[Any],
    uri: str,
    text: str,
    predicate: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 5.0,
    interval: float = 0.2,
) -> tuple[float, list[dict[str, Any]]]:
    """Ask again until the next completion's context satisfies `predicate`.

    Returns (seconds it took, that context); fails after `timeout` seconds.
    """
    start = time.monotonic()
    while True:
        context = await context_of_next_completion(client, stats, uri, text)
        if predicate(context):
            return time.monotonic() - start, context
        assert time.monotonic() - start < timeout, f"context never as expected: {context}"
        await asyncio.sleep(interval)


async def context_of_next_completion(
    client: LanguageClient, stats: list[Any], uri: str, text: str
) -> list[dict[str, Any]]:
    """Ask for a completion at the end of `text`; the context snippets its prompt showed.

    Needs the `debug` setting and `stats` filled by a smallcode/completionStats handler.
    """
    stats.clear()
    lines = text.split("\n")
    await inline_completion(client, uri, len(lines) - 1, len(lines[-1]))
    for _ in range(250):
        if stats:
            break
        await asyncio.sleep(0.02)
    assert stats, "no smallcode/completionStats notification"
    return _plain(stats[-1])["context"]
