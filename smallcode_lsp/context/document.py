"""An open document's text and its incrementally maintained tree-sitter tree."""

from __future__ import annotations

import logging

from tree_sitter import Language, Node, Tree

from smallcode_lsp.languages import decode, encode, language_for, language_key, parser_for

log = logging.getLogger("smallcode_lsp.context")


def _point_after(start: tuple[int, int], inserted: bytes) -> tuple[int, int]:
    """Row/byte-column reached after inserting `inserted` at `start`."""
    newlines = inserted.count(b"\n")
    if newlines == 0:
        return (start[0], start[1] + len(inserted))
    return (start[0] + newlines, len(inserted) - inserted.rfind(b"\n") - 1)


class ParsedDocument:
    """Text + tree; `apply_edit` does a real tree.edit + incremental reparse.

    Without a grammar (unknown language) `tree` is None and everything else still works, so
    callers treat plain text uniformly.
    """

    def __init__(self, text: str, language_id: str, path: str | None = None) -> None:
        self.language_id = language_id
        self.path = path
        self.language_key = language_key(language_id, path)
        self.language: Language | None = language_for(language_id, path)
        self._text = text
        self._bytes = encode(text)
        self._tree: Tree | None = None
        self._reparse(None)

    @property
    def text(self) -> str:
        return self._text

    @property
    def data(self) -> bytes:
        """The UTF-8 bytes the tree was parsed from."""
        return self._bytes

    @property
    def tree(self) -> Tree | None:
        return self._tree

    @property
    def root(self) -> Node | None:
        return self._tree.root_node if self._tree is not None else None

    def _reparse(self, old: Tree | None) -> None:
        if self.language is None:
            return
        try:
            parser = parser_for(self.language)
            self._tree = parser.parse(self._bytes, old) if old else parser.parse(self._bytes)
        except (ValueError, RuntimeError) as exc:  # keep serving plain text on parser failure
            log.warning("parse failed for %s: %s", self.path, exc)
            self._tree = None

    def byte_offset(self, index: int) -> int:
        """Byte offset of the str index `index`."""
        return len(encode(self._text[:index]))

    def str_offset(self, byte: int) -> int:
        """Str index of the byte offset `byte` (which must fall on a character boundary)."""
        return len(decode(self._bytes[:byte]))

    def point(self, index: int) -> tuple[int, int]:
        """Tree-sitter point (row, byte column) of the str index `index`."""
        row = self._text.count("\n", 0, index)
        line_start = self._text.rfind("\n", 0, index) + 1
        return (row, len(encode(self._text[line_start:index])))

    def offset_at(self, line: int, utf16_character: int) -> int:
        """Str index of an LSP position (0-based line, UTF-16 code units), clamped to the line."""
        start = 0
        for _ in range(max(0, line)):
            nl = self._text.find("\n", start)
            if nl < 0:
                return len(self._text)
            start = nl + 1
        end = self._text.find("\n", start)
        end = len(self._text) if end < 0 else end
        units = 0
        i = start
        while i < end and units < utf16_character:
            units += 2 if ord(self._text[i]) > 0xFFFF else 1
            i += 1
        return i

    def node_text(self, node: Node) -> str:
        return decode(self._bytes[node.start_byte : node.end_byte])

    def apply_edit(self, start: int, end: int, new_text: str) -> None:
        """Replace text[start:end] with `new_text` (str indices) and reparse incrementally."""
        start = max(0, min(start, len(self._text)))
        end = max(start, min(end, len(self._text)))
        start_byte = self.byte_offset(start)
        old_end_byte = start_byte + len(encode(self._text[start:end]))
        start_point = self.point(start)
        old_end_point = self.point(end)
        inserted = encode(new_text)
        self._text = self._text[:start] + new_text + self._text[end:]
        self._bytes = self._bytes[:start_byte] + inserted + self._bytes[old_end_byte:]
        if self._tree is None:
            self._reparse(None)
            return
        self._tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=start_byte + len(inserted),
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=_point_after(start_point, inserted),
        )
        self._reparse(self._tree)

    def set_text(self, text: str) -> None:
        """Full-document sync: parse from scratch."""
        self._text = text
        self._bytes = encode(text)
        self._tree = None
        self._reparse(None)

    def copy(self) -> ParsedDocument:
        """An independent copy (the tree is copied, so edits to it leave this one intact)."""
        other = ParsedDocument.__new__(ParsedDocument)
        other.__dict__.update(self.__dict__)
        other._tree = self._tree.copy() if self._tree is not None else None
        return other

    def node_at(self, index: int) -> Node | None:
        """Smallest named node around str index `index` (None without a tree)."""
        root = self.root
        if root is None:
            return None
        b = self.byte_offset(index)
        return root.named_descendant_for_byte_range(max(0, b - 1), b)


def count_errors(root: Node | None) -> int:
    """ERROR + MISSING nodes, descending only into subtrees that contain errors (cheap)."""
    if root is None or not root.has_error:
        return 0
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return count


def error_score(root: Node | None) -> tuple[int, int]:
    """(ERROR + MISSING nodes, bytes under ERROR nodes): compared as a tuple, fewer errors win
    and, at equal count, the smaller damaged region (`x = )` swallows more than `x = `)."""
    if root is None or not root.has_error:
        return (0, 0)
    count = damaged = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
            damaged += node.end_byte - node.start_byte
            if node.is_error:
                continue  # nested errors are inside this region already
        stack.extend(c for c in node.children if c.has_error or c.is_missing)
    return (count, damaged)
