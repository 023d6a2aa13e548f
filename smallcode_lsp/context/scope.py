"""Syntax facts about the cursor's file: enclosing scopes, imports, identifiers near the cursor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.workspace.symbols import CONTAINERS, DEFINITIONS

# Definition-like nodes that form the scope chain (functions, classes, impls, namespaces, ...).
SCOPE_TYPES = frozenset(
    {t for table in DEFINITIONS.values() for t in table}
    - {"expression_statement", "lexical_declaration", "variable_declaration", "preproc_def",
       "const_spec", "type_spec", "const_item", "static_item", "type_definition"}
) | CONTAINERS | {"arrow_function", "function_expression", "lambda", "closure_expression",
                  "func_literal", "lambda_expression", "type_spec"}  # fmt: skip

IMPORT_TYPES = frozenset({
    "import_statement", "import_from_statement", "future_import_statement",  # python, js/ts
    "import_declaration", "use_declaration", "preproc_include", "extern_crate_declaration",
})  # fmt: skip
IDENTIFIER_TYPES = frozenset({
    "identifier", "type_identifier", "property_identifier", "field_identifier",
    "shorthand_property_identifier", "namespace_identifier", "package_identifier",
})  # fmt: skip
_REQUIRE = re.compile(r"""require\(\s*['"]([^'"]+)['"]\s*\)""")
_STRINGS = re.compile(r"""['"<]([^'"<>]+)['">]""")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Scope:
    """One enclosing definition: its kind, header text and where it starts (str offset)."""

    node_type: str
    header: str
    start: int
    body_start: int


@dataclass(frozen=True)
class Import:
    """An import statement: its text, the module it names and the local names it binds."""

    text: str
    module: str
    names: tuple[str, ...]
    start: int
    end: int


def header_of(doc: ParsedDocument, node: Node) -> tuple[str, int]:
    """Header text (up to the body) and the str offset where the body starts."""
    body = node.child_by_field_name("body")
    end_byte = body.start_byte if body is not None else node.end_byte
    text = doc.data[node.start_byte : end_byte].decode("utf-8", "surrogatepass").rstrip()
    if body is None:
        text = text.split("\n", 1)[0]
    return text, doc.str_offset(end_byte)


def scope_chain(doc: ParsedDocument, offset: int) -> list[Scope]:
    """Enclosing definitions of `offset`, outermost first (empty without a tree)."""
    root = doc.root
    if root is None:
        return []
    b = doc.byte_offset(offset)
    node: Node | None = root.descendant_for_byte_range(max(0, b - 1), b)
    chain: list[Scope] = []
    while node is not None:
        if node.type in SCOPE_TYPES and node.start_byte < b:
            header, body_start = header_of(doc, node)
            # Decorators belong to the definition they wrap: start the header there.
            parent = node.parent
            outer = parent if parent and parent.type == "decorated_definition" else node
            start = doc.str_offset(outer.start_byte)
            if outer is not node:
                header = doc.text[start:body_start].rstrip()
            chain.append(Scope(node.type, header, start, body_start))
        node = node.parent
    chain.reverse()
    return chain


def _import_names(doc: ParsedDocument, node: Node) -> tuple[str, tuple[str, ...]]:
    """(module, bound names) of one import node, across grammars, best effort."""
    text = doc.node_text(node)
    t = node.type
    if t == "import_from_statement":
        mod = node.child_by_field_name("module_name")
        module = doc.node_text(mod) if mod is not None else ""
        names = [
            doc.node_text(n.child_by_field_name("alias") or n.child_by_field_name("name") or n)
            for n in node.children_by_field_name("name")
        ]
        return module, tuple(names)
    if t == "import_statement" and doc.language_key == "python":
        names = [doc.node_text(n).split(" as ")[-1].strip() for n in node.named_children]
        return (names[0] if names else ""), tuple(names)
    m = _REQUIRE.search(text) or _STRINGS.search(text)
    module = m.group(1) if m else ""
    if t == "use_declaration":  # rust: use a::b::{c, d}
        module = text.removeprefix("pub ").removeprefix("use ").split("{")[0].rstrip(":;")
    if t in ("import_statement", "lexical_declaration", "variable_declaration"):
        head = text.split(" from ")[0] if " from " in text else text.split("=")[0]
        words = [w for w in _WORD.findall(head) if w not in _KEYWORDS]
        return module, tuple(words)
    tail = [w for w in _WORD.findall(text) if w not in _KEYWORDS]
    return module, tuple(tail[-4:])


_KEYWORDS = frozenset({
    "import", "from", "as", "const", "let", "var", "require", "type", "typeof", "default",
    "use", "pub", "crate", "self", "super", "static", "package", "include",
})  # fmt: skip


def imports_of(doc: ParsedDocument, limit: int = 64) -> list[Import]:
    """Top-level imports (and CommonJS `require`s) in source order."""
    root = doc.root
    if root is None:
        return []
    out: list[Import] = []
    for node in root.named_children:
        if len(out) >= limit:
            break
        t = node.type
        is_import = t in IMPORT_TYPES
        if not is_import and t in ("lexical_declaration", "variable_declaration"):
            is_import = _REQUIRE.search(doc.node_text(node)) is not None
        if not is_import:
            continue
        module, names = _import_names(doc, node)
        out.append(
            Import(
                doc.node_text(node), module, names,
                doc.str_offset(node.start_byte), doc.str_offset(node.end_byte),
            )
        )  # fmt: skip
    return out


def identifiers_near(
    doc: ParsedDocument, offset: int, lines_before: int = 30, lines_after: int = 10
) -> list[str]:
    """Distinct identifiers around the cursor, nearest line first.

    The identifier being typed at the cursor is left out: it changes on every keystroke and
    would make the context (and the KV-cache prefix) churn.
    """
    text = doc.text
    row = text.count("\n", 0, offset)
    lines = text.split("\n")
    first, last = max(0, row - lines_before), min(len(lines) - 1, row + lines_after)
    root = doc.root
    order: list[tuple[int, str]] = []
    if root is not None:
        start_b = doc.byte_offset(sum(len(x) + 1 for x in lines[:first]))
        cursor_b = doc.byte_offset(offset)
        stack = [root]
        while stack:
            node = stack.pop()
            if node.end_byte < start_b or node.start_point[0] > last:
                continue
            if node.type in IDENTIFIER_TYPES:
                if not node.start_byte <= cursor_b <= node.end_byte:
                    order.append((abs(node.start_point[0] - row), doc.node_text(node)))
                continue
            stack.extend(node.children)
    else:
        for i in range(first, last + 1):
            for m in _WORD.finditer(lines[i]):
                if i == row and m.start() <= offset - text.rfind("\n", 0, offset) - 1 <= m.end():
                    continue
                order.append((abs(i - row), m.group()))
    seen: dict[str, None] = {}
    for _, name in sorted(order, key=lambda x: x[0]):
        seen.setdefault(name, None)
    return list(seen)


def _function_like(node: Node) -> bool:
    kind = node.type
    named = any(w in kind for w in ("function", "method", "lambda", "closure", "arrow"))
    return named and node.child_by_field_name("body") is not None


def _span_of_function(doc: ParsedDocument, node: Node | None) -> tuple[int, int] | None:
    """Str offsets of `node` or its nearest function-like ancestor (None: there is none)."""
    while node is not None and not _function_like(node):
        node = node.parent
    if node is None:
        return None
    return doc.str_offset(node.start_byte), doc.str_offset(node.end_byte)


def function_span(doc: ParsedDocument, offset: int) -> tuple[int, int] | None:
    """Str offsets of the innermost function-like definition around `offset` (None outside
    one, or without a tree): where a one-letter name means one thing."""
    root = doc.root
    if root is None:
        return None
    b = doc.byte_offset(offset)
    return _span_of_function(doc, root.descendant_for_byte_range(b, b))


BINDING_FIELDS = ("name", "left", "declarator", "pattern", "alias")


def binding_scope(doc: ParsedDocument, offset: int) -> tuple[int, int] | None:
    """Where the name bound by the identifier at `offset` is visible, as str offsets: the
    function around a parameter or local, the enclosing one (or the file) around a
    function's own name; None when the identifier is a use, not a binding."""
    root = doc.root
    if root is None:
        return None
    b = doc.byte_offset(offset)
    node: Node | None = root.named_descendant_for_byte_range(b, b)
    if node is None or "identifier" not in node.type or node.parent is None:
        return None
    parent = node.parent
    if "parameter" not in parent.type and not any(
        parent.child_by_field_name(f) == node for f in BINDING_FIELDS
    ):
        return None
    outer = parent.parent if _function_like(parent) else parent
    return _span_of_function(doc, outer) or (0, len(doc.text))
