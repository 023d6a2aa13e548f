"""Next-edit suggestions over LSP: the real server over stdio, pygls' client, the real model
loaded (propagation needs none, but it must work beside it). A rename at one place yields the
next site's edit, site after site as they are accepted; an edit that would revert the user's
last one is never offered; a rejected one is not offered again at its spot; a big real file
answers in milliseconds. The same method and shapes as GitHub Copilot's language server."""

from __future__ import annotations

import _pydecimal
import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from smallcode_lsp.default_model import default_model_path
from tests.e2e.lsp_session import (
    _plain,
    initialize,
    open_document,
    server_config,
    status,
    wait_for_state,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

SOURCE = "value = compute(1)\nprint(value)\ntotal = value + 1\n"


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client, {})
    await wait_for_state(lsp_client, "ready", timeout=120)
    yield
    await lsp_client.shutdown_session()


class Doc:
    """A document the test edits the way an editor would: incremental didChange, versions."""

    def __init__(self, client: LanguageClient, uri: str, text: str) -> None:
        self.client, self.uri, self.text, self.version = client, uri, text, 1
        open_document(client, uri, text)

    def offset(self, line: int, character: int) -> int:
        lines = self.text.split("\n")
        return sum(len(s) + 1 for s in lines[:line]) + character

    def position(self, offset: int) -> dict[str, int]:
        line = self.text.count("\n", 0, offset)
        return {"line": line, "character": offset - (self.text.rfind("\n", 0, offset) + 1)}

    def replace(self, start: int, end: int, text: str) -> None:
        rng = lsp.Range(
            start=lsp.Position(**self.position(start)), end=lsp.Position(**self.position(end))
        )
        self.version += 1
        self.text = self.text[:start] + text + self.text[end:]
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[lsp.TextDocumentContentChangePartial(range=rng, text=text)],
            )
        )

    def type_over(self, word: str, new: str, occurrence: int = 0) -> None:
        """Select the `occurrence`-th `word`, delete it, type `new` key by key."""
        at = -1
        for _ in range(occurrence + 1):
            at = self.text.index(word, at + 1)
        self.replace(at, at + len(word), "")
        for i, ch in enumerate(new):
            self.replace(at + i, at + i, ch)

    async def next_edit(self, offset: int) -> list[dict[str, Any]]:
        result = await self.client.protocol.send_request_async(
            "textDocument/copilotInlineEdit",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "position": self.position(offset),
            },
        )
        return _plain(result)["edits"]

    def apply(self, edit: dict[str, Any]) -> None:
        rng = edit["range"]
        start = self.offset(rng["start"]["line"], rng["start"]["character"])
        end = self.offset(rng["end"]["line"], rng["end"]["character"])
        self.replace(start, end, edit["text"])

    def notify(self, method: str, edit: dict[str, Any]) -> None:
        self.client.protocol.notify(method, {"item": {"command": edit["command"]}})


async def test_a_rename_yields_the_next_sites_edit_one_after_another(
    client: LanguageClient,
) -> None:
    doc = Doc(client, "file:///tmp/rename.py", SOURCE)
    doc.type_over("value", "result")
    edits = await doc.next_edit(len("result"))
    assert len(edits) == 1
    edit = edits[0]
    assert edit["text"] == "result"
    assert edit["range"] == {
        "start": {"line": 1, "character": 6},
        "end": {"line": 1, "character": 11},
    }
    assert edit["textDocument"] == {"uri": doc.uri, "version": doc.version}
    doc.notify("textDocument/didShowInlineEdit", edit)
    doc.apply(edit)  # accepted: the client applies it, then runs its command
    await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command=edit["command"]["command"], arguments=edit["command"]["arguments"]
        )
    )
    second = await doc.next_edit(doc.offset(1, 12))
    assert [(e["range"]["start"]["line"], e["text"]) for e in second] == [(2, "result")]
    doc.apply(second[0])
    assert doc.text == "result = compute(1)\nprint(result)\ntotal = result + 1\n"
    assert await doc.next_edit(doc.offset(2, 14)) == []  # nothing left to rename
    counts = (await status(client))["nextEdit"]
    assert counts["shown"] >= 1 and counts["accepted"] >= 1


async def test_an_edit_that_reverts_the_users_last_one_is_never_offered(
    client: LanguageClient,
) -> None:
    doc = Doc(client, "file:///tmp/revert.py", "x = old\ny = old\nz = old\nv = old\nw = new\n")
    assert await doc.next_edit(7) == []  # nothing edited yet
    doc.type_over("old", "new")  # x
    assert await doc.next_edit(7) == []  # once is a change, not yet a repeated one
    await asyncio.sleep(2.1)  # a pause: the next change is an edit of its own
    doc.type_over("old", "new")  # y
    # `new` was in the file already (w): swapping one existing thing for another is a choice
    # made site by site, repeated only after a third instance
    assert await doc.next_edit(15) == []
    await asyncio.sleep(2.1)
    doc.type_over("old", "new")  # z: now it repeats
    assert [(e["range"]["start"]["line"], e["text"]) for e in await doc.next_edit(23)] == [
        (3, "new")
    ]
    await asyncio.sleep(2.1)
    doc.type_over("new", "old", occurrence=3)  # w: new -> old, the user changed their mind
    # `new` -> `old` would rewrite x, y and z, which the user just wrote; v's old -> new would
    # repeat the change the user just undid at w
    assert await doc.next_edit(doc.offset(4, 7)) == []


async def test_a_rejected_edit_is_not_offered_again_at_its_spot(client: LanguageClient) -> None:
    doc = Doc(client, "file:///tmp/reject.py", "f(old)\ng(old)\nh(old)\nk(old)\n")
    doc.type_over("old", "new")
    await asyncio.sleep(2.1)
    doc.type_over("old", "new")
    first = (await doc.next_edit(12))[0]
    assert first["range"]["start"]["line"] == 2
    doc.notify("smallcode/didRejectInlineEdit", first)
    again = await doc.next_edit(12)
    assert [e["range"]["start"]["line"] for e in again] == [3]


async def test_a_stale_version_or_an_unknown_document_gets_no_edit(client: LanguageClient) -> None:
    doc = Doc(client, "file:///tmp/stale.py", SOURCE)
    doc.type_over("value", "result")
    doc.version -= 1  # ask about a version the server has moved past
    assert await doc.next_edit(6) == []
    doc.version += 1
    doc.uri = "file:///tmp/never-opened.py"
    assert await doc.next_edit(6) == []


async def test_a_big_real_file_answers_fast(client: LanguageClient) -> None:
    text = Path(_pydecimal.__file__).read_text()
    doc = Doc(client, Path(_pydecimal.__file__).as_uri(), text)
    definition = text.index("def _dec_from_triple") + len("def ")
    # rename the definition (a use renamed once is not yet a repeated change)
    doc.replace(definition, definition + len("_dec_from_triple"), "_decimal_from_triple")
    timings = []
    for pause in (0.0, 0.2):  # right behind the keystrokes, and after a client's debounce
        await asyncio.sleep(pause)
        started = time.perf_counter()
        edits = await doc.next_edit(definition + 20)
        timings.append((time.perf_counter() - started) * 1000)
        assert [e["text"] for e in edits] == ["_decimal_from_triple"]
    print(
        f"next edit in a {len(text) // 1024} KB file: {timings[0]:.1f} ms behind the keys, "
        f"{timings[1]:.1f} ms after a pause"
    )


@pytest_lsp.fixture(config=server_config(), scope="module")
async def model_client(lsp_client: LanguageClient):
    # The embedded base model as a stand-in next-edit model (no next-edit GGUF is on the
    # registries here): it exercises the whole model path, not the quality of its edits.
    await initialize(lsp_client, {"nextEditModel": default_model_path(), "nextEditFormat": "sweep"})
    await wait_for_state(lsp_client, "ready", timeout=120)
    yield
    await lsp_client.shutdown_session()


async def test_the_model_predictor_answers_where_propagation_has_nothing(
    model_client: LanguageClient,
) -> None:
    client = model_client
    deadline = time.monotonic() + 120
    while not (await status(client))["nextEdit"]["model"]["loaded"]:
        assert time.monotonic() < deadline, "next-edit model never loaded"
        await asyncio.sleep(0.2)
    model = (await status(client))["nextEdit"]["model"]
    assert model["format"] == "sweep" and model["error"] is None
    text = "def area(w, h):\n    return w * h\n\n\nprint(area(2, 3))\n"
    doc = Doc(client, "file:///tmp/model.py", text)
    doc.type_over("w", "width")  # `w` appears again, but `width` would rewrite... propagation
    edits = await doc.next_edit(doc.offset(0, 14))
    # Propagation offers `w` -> `width` in the body; the model is asked only when it has
    # nothing: a lone edit that repeats nowhere.
    assert [e["text"] for e in edits] == ["width"]
    doc.apply(edits[0])
    doc.type_over("print", "log")  # no other `print`: propagation has nothing
    answered = await doc.next_edit(doc.offset(4, 3))
    for edit in answered:  # whatever the stand-in model wrote passed the filters
        assert edit["textDocument"]["version"] == doc.version
        assert edit["range"]["start"]["line"] <= 4
    counts = (await status(client))["nextEdit"]
    assert counts["model"]["asked"] >= 1  # the model ran (propagation had nothing)
    assert counts["offered"] >= 1 + len(answered)
    print(f"stand-in model: {counts['model']}, offered {answered}")
