"""LSP <-> plain types. The only module besides server.py that knows lsprotocol."""

from __future__ import annotations

import dataclasses
import re

from lsprotocol import types as lsp
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from smallcode_lsp.documents import TextEdit
from smallcode_lsp.safety.limits import document_window
from smallcode_lsp.types import Completion, CompletionRequest, DocumentSnapshot, Trigger


class PositionOutOfRange(ValueError):
    pass


def offset_at(document: TextDocument, position: lsp.Position) -> int:
    """Code-point offset of a client position (UTF-16 or as negotiated).

    A line past the end is an error; a character past the line end means the line end, as the
    LSP spec says.
    """
    lines = document.lines
    if position.line > len(lines) or (position.line == len(lines) and position.character > 0):
        raise PositionOutOfRange(
            f"position {position.line}:{position.character} is past the end of the document "
            f"({len(lines)} lines)"
        )
    if position.line == len(lines):
        return len(document.source)
    line = lines[position.line]
    content = line.rstrip("\r\n")
    # A copy: pygls clamps the position it is given in place, and the handler echoes
    # params.position back as the item's range.
    client_pos = lsp.Position(line=position.line, character=position.character)
    server_pos = document.position_codec.position_from_client_units(lines, client_pos)
    column = min(server_pos.character, len(content))
    return sum(len(text) for text in lines[: position.line]) + column


def position_at(document: TextDocument, offset: int) -> lsp.Position:
    """The client position (UTF-16 or as negotiated) of a code-point offset."""
    source = document.source
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset)
    column = offset - (source.rfind("\n", 0, offset) + 1)
    server_pos = lsp.Position(line=line, character=column)
    return document.position_codec.position_to_client_units(document.lines, server_pos)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Lone UTF-16 surrogates (valid JSON escapes, invalid Unicode) -> U+FFFD, same length.

    Otherwise the tokenizer's UTF-8 encode fails on every request for that document.
    """
    if text.isascii() or not _LONE_SURROGATE.search(text):
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def fs_path(uri: str) -> str | None:
    """The filesystem path of a file: URI (None for other schemes)."""
    return to_fs_path(uri) if uri.startswith("file:") else None


def text_edits(params: lsp.DidChangeTextDocumentParams) -> list[TextEdit]:
    edits = []
    for change in params.content_changes:
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            start, end = change.range.start, change.range.end
            edits.append(
                TextEdit(change.text, (start.line, start.character), (end.line, end.character))
            )
        else:
            edits.append(TextEdit(change.text))
    return edits


def snapshot(document: TextDocument) -> DocumentSnapshot:
    path = fs_path(document.uri)
    return DocumentSnapshot(
        uri=document.uri,
        text=clean_text(document.source),
        language_id=document.language_id or "plaintext",
        version=document.version or 0,
        path=path,
    )


def completion_request(
    document: TextDocument, position: lsp.Position, trigger: Trigger
) -> CompletionRequest:
    """The request the pipeline sees; on a huge file, only a window around the cursor."""
    snap, offset = snapshot(document), offset_at(document, position)
    start, end = document_window(snap.text, offset)
    if end - start < len(snap.text):
        snap, offset = dataclasses.replace(snap, text=snap.text[start:end]), offset - start
    return CompletionRequest(document=snap, offset=offset, trigger=trigger)


def trigger_of(kind: lsp.InlineCompletionTriggerKind | None) -> Trigger:
    if kind == lsp.InlineCompletionTriggerKind.Invoked:
        return Trigger.INVOKED
    return Trigger.AUTOMATIC


def inline_items(
    completions: list[Completion], position: lsp.Position, first_id: int
) -> lsp.InlineCompletionList:
    """Plain-string items (LSP4IJ shows snippet strings raw) inserted at the cursor."""
    cursor = lsp.Range(start=position, end=position)
    return lsp.InlineCompletionList(
        items=[
            lsp.InlineCompletionItem(
                insert_text=completion.text,
                range=cursor,
                command=lsp.Command(
                    title="SmallCode: accepted",
                    command="smallcode.accepted",
                    arguments=[first_id + index],
                ),
            )
            for index, completion in enumerate(completions)
        ]
    )


def completion_items(completions: list[Completion], position: lsp.Position) -> lsp.CompletionList:
    """The same suggestion as a classic completion item, for clients without inline completion."""
    items = []
    for completion in completions[:1]:
        first_line = completion.text.split("\n", 1)[0]
        items.append(
            lsp.CompletionItem(
                label=(first_line.strip() or completion.text.strip())[:60],
                kind=lsp.CompletionItemKind.Text,
                detail="SmallCode",
                insert_text_format=lsp.InsertTextFormat.PlainText,
                text_edit=lsp.TextEdit(
                    range=lsp.Range(start=position, end=position), new_text=completion.text
                ),
                sort_text="0",
                preselect=True,
            )
        )
    return lsp.CompletionList(is_incomplete=True, items=items)
