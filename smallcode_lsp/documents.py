"""Parsed open documents, kept in step with the editor by incremental tree-sitter edits."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.scope import binding_scope, function_span

log = logging.getLogger(__name__)

# Larger documents are completed as plain text: a full parse of a multi-megabyte file on
# every open would stall the event loop, and the syntax rules gain little there.
MAX_PARSED_CHARS = 1_000_000


@dataclass(frozen=True)
class TextEdit:
    """One content change: a range in (line, UTF-16 column) positions, or a full text."""

    text: str
    start: tuple[int, int] | None = None  # None: the whole document is replaced
    end: tuple[int, int] | None = None


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, ParsedDocument] = {}
        # Documents too large to keep parsed: (language_id, path) to re-open them if they shrink.
        self._large: dict[str, tuple[str, str | None]] = {}

    def open(self, uri: str, text: str, language_id: str, path: str | None) -> None:
        self._docs.pop(uri, None)
        self._large.pop(uri, None)
        if len(text) > MAX_PARSED_CHARS:
            self._large[uri] = (language_id, path)  # the pipeline works on a window of it
            return
        self._docs[uri] = ParsedDocument(text, language_id, path)

    def change(self, uri: str, edits: list[TextEdit], final_text: str) -> None:
        """Apply the editor's edits in order; `final_text` (the synced text) is the truth."""
        if uri in self._large:
            if len(final_text) <= MAX_PARSED_CHARS:
                self.open(uri, final_text, *self._large[uri])
            return
        doc = self._docs.get(uri)
        if doc is None:
            return
        if len(final_text) > MAX_PARSED_CHARS:
            self._docs.pop(uri)
            self._large[uri] = (doc.language_id, doc.path)
            return
        try:
            for edit in edits:
                if edit.start is None or edit.end is None:
                    doc.set_text(edit.text)
                    continue
                start = doc.offset_at(*edit.start)
                end = doc.offset_at(*edit.end)
                doc.apply_edit(min(start, end), max(start, end), edit.text)
        except Exception:  # a bad edit must not lose the document: resync from the text
            log.exception("incremental parse failed for %s; reparsing", uri)
        if doc.text != final_text:
            doc.set_text(final_text)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)
        self._large.pop(uri, None)

    def snapshot(self, uri: str, text: str) -> ParsedDocument | None:
        """A copy for the worker thread (O(1): the tree is shared copy-on-write)."""
        doc = self._docs.get(uri)
        if doc is None or doc.text != text:
            return None
        return doc.copy()

    def syntax(self, uri: str, text: str) -> DocumentSyntax | None:
        """The parsed document as `text`, for next-edit propagation (None when unparsed)."""
        doc = self._docs.get(uri)
        return DocumentSyntax(doc) if doc is not None and doc.text == text else None


class DocumentSyntax:
    """Syntax facts about one parsed document, by str offset."""

    def __init__(self, doc: ParsedDocument) -> None:
        self._doc = doc

    def function_at(self, offset: int) -> tuple[int, int] | None:
        return function_span(self._doc, offset)

    def binding_scope(self, offset: int) -> tuple[int, int] | None:
        return binding_scope(self._doc, offset)
