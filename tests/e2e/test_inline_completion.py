"""The backbone, end to end: real server subprocess, real LSP client, real Gemma model."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.lsp_session import (
    SHAPES,
    initialize,
    inline_completion,
    open_document,
    server_config,
    shapes_body_line,
    status,
    wait_for_state,
    with_inserted,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    # These tests judge what the model says, so its length must not depend on this machine's
    # speed: no answer deadline (with one, a cold first request on a slow CI machine was cut
    # mid-expression). Deadlines: test_deadline.py, engine/test_abort.py, the post-processing tests.
    lsp_client.init_result = await initialize(  # type: ignore[attr-defined]
        lsp_client, {"latencyBudgetMs": 0}
    )
    await wait_for_state(lsp_client, "ready", "error")
    yield
    await lsp_client.shutdown_session()


async def test_capabilities_are_advertised(client: LanguageClient) -> None:
    caps = client.init_result.capabilities  # type: ignore[attr-defined]
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    sync = caps.text_document_sync
    assert sync.change == lsp.TextDocumentSyncKind.Incremental


async def test_model_loading_reported_with_progress(client: LanguageClient) -> None:
    kinds = [type(v).__name__ for values in client.progress_reports.values() for v in values]
    assert "WorkDoneProgressBegin" in kinds and "WorkDoneProgressEnd" in kinds
    info = (await status(client))["modelInfo"]
    assert info["architecture"] == "gemma3"
    assert info["fim"] is False  # Gemma 3 has no FIM tokens: prefix-only prompts


async def test_completion_in_function_body_is_sensible_code(client: LanguageClient) -> None:
    text = SHAPES.read_text()
    uri = SHAPES.as_uri()
    open_document(client, uri, text)
    lines = text.split("\n")
    line = shapes_body_line(lines)  # the empty body line the cursor sits on
    result = await inline_completion(client, uri, line, 8)
    assert result is not None and result.items, "no completion"
    item = result.items[0]
    assert isinstance(item.insert_text, str)
    completion = item.insert_text
    assert completion.strip()
    assert item.range is not None and item.range.start == lsp.Position(line=line, character=8)
    # Sensible: not the code that follows repeated, and the file still parses with it inserted.
    following = "\n".join(lines[line + 1 :]).strip()
    assert not following.startswith(completion.strip())
    ast.parse(with_inserted(lines, line, 8, completion))
    assert "radius" in completion or "return" in completion


async def test_completion_on_a_standard_library_module(client: LanguageClient) -> None:
    """A real module (textwrap), `shorten`'s first statement removed: the next line uses `w`,
    which that statement defined."""
    source = textwrap.dedent(inspect.getsource(textwrap))
    uri = "file:///virtual/textwrap_copy.py"
    removed = "    w = TextWrapper(width=width, max_lines=1, **kwargs)\n"
    cut = source.index(removed)
    text = source[:cut] + "    \n" + source[cut + len(removed) :]
    open_document(client, uri, text)
    line = text[:cut].count("\n")
    result = await inline_completion(client, uri, line, 4)
    assert result is not None and result.items
    completion = result.items[0].insert_text
    assert isinstance(completion, str) and completion.strip()
    patched = text[: cut + 4] + completion + text[cut + 4 :]
    tree = ast.parse(patched)  # the module still parses with it inserted
    shorten = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "shorten")
    first = shorten.body[1]  # after the docstring
    assert isinstance(first, ast.Assign), completion
    assert [t.id for t in first.targets if isinstance(t, ast.Name)] == ["w"], completion


async def test_invoked_request_may_give_more_items(client: LanguageClient) -> None:
    uri = SHAPES.as_uri()
    lines = SHAPES.read_text().split("\n")
    line = shapes_body_line(lines)
    result = await inline_completion(client, uri, line, 8, lsp.InlineCompletionTriggerKind.Invoked)
    assert result is not None and 1 <= len(result.items) <= 3
    texts = [item.insert_text for item in result.items]
    assert len(set(texts)) == len(texts)  # alternatives are distinct


async def test_classic_completion_carries_the_same_suggestion(client: LanguageClient) -> None:
    uri = SHAPES.as_uri()
    lines = SHAPES.read_text().split("\n")
    line = shapes_body_line(lines)
    result = await client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=8),
        )
    )
    assert isinstance(result, lsp.CompletionList) and len(result.items) == 1
    assert result.items[0].text_edit is not None
    assert result.items[0].text_edit.new_text.strip()


async def test_unknown_document_gives_empty_result(client: LanguageClient) -> None:
    assert await inline_completion(client, "file:///nowhere/missing.py", 0, 0) is None


async def test_position_past_the_end_gives_empty_result(client: LanguageClient) -> None:
    uri = "file:///virtual/short.py"
    open_document(client, uri, "x = 1\n")
    assert await inline_completion(client, uri, 40, 0) is None
    # ... and the server keeps serving.
    assert (await status(client))["state"] in ("ready", "generating")
