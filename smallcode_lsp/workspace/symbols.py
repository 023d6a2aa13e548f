"""Symbol extraction from a tree-sitter tree: functions, classes, methods, types, constants.

Tables per grammar (node type -> kind) drive one generic walk; adding a language is adding rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from smallcode_lsp.languages import decode

MAX_SIGNATURE_CHARS = 240
MAX_SIGNATURE_LINES = 4


@dataclass(frozen=True)
class Symbol:
    """One definition. `line` is 0-based (LSP style); `doc` is the doc comment's first line."""

    name: str
    kind: str  # function | method | class | interface | type | enum | constant | variable | macro
    path: str
    line: int
    signature: str
    doc: str = ""
    container: str = ""  # enclosing class/impl/namespace name, "" at top level
    end_line: int = 0


_JS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "method_definition": "method",
    "lexical_declaration": "variable",
    "variable_declaration": "variable",
    "expression_statement": "variable",  # exports.foo = ... / module.exports.foo = ...
}
_TS = _JS | {
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "function_signature": "function",
    "method_signature": "method",
}
_C = {
    "function_definition": "function",
    "struct_specifier": "type",
    "enum_specifier": "enum",
    "type_definition": "type",
    "preproc_def": "constant",
    "preproc_function_def": "macro",
}
DEFINITIONS: dict[str, dict[str, str]] = {
    "python": {
        "function_definition": "function",
        "class_definition": "class",
        "expression_statement": "constant",  # module-level NAME = ...
    },
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": {
        "function_declaration": "function",
        "method_declaration": "method",
        "type_spec": "type",
        "const_spec": "constant",
    },
    "rust": {
        "function_item": "function",
        "function_signature_item": "function",
        "struct_item": "type",
        "enum_item": "enum",
        "trait_item": "interface",
        "type_item": "type",
        "const_item": "constant",
        "static_item": "constant",
        "macro_definition": "macro",
    },
    "c": _C,
    "cpp": _C | {"class_specifier": "class"},
    "java": {
        "class_declaration": "class",
        "interface_declaration": "interface",
        "enum_declaration": "enum",
        "record_declaration": "class",
        "method_declaration": "method",
        "constructor_declaration": "method",
    },
}
# Nodes whose children are walked with the same container (wrappers, grouping declarations).
WRAPPERS = {
    "decorated_definition", "export_statement", "template_declaration", "type_declaration",
    "const_declaration", "linkage_specification", "declaration_list", "preproc_ifdef",
    "preproc_if", "preproc_else", "ambient_declaration",
}  # fmt: skip
# Definitions whose bodies hold members (methods); walked with the definition as container.
CONTAINERS = {
    "class_definition", "class_declaration", "abstract_class_declaration", "class_specifier",
    "interface_declaration", "trait_item", "impl_item", "mod_item", "namespace_definition",
    "enum_declaration", "record_declaration", "struct_specifier",
}  # fmt: skip
_BODY_FIELDS = ("body",)
_NAME_LEAVES = {
    "identifier", "type_identifier", "field_identifier", "property_identifier",
    "qualified_identifier", "destructor_name", "operator_name", "namespace_identifier",
}  # fmt: skip
_FUNCTION_KINDS = {"arrow_function", "function_expression", "function", "generator_function"}


def _text(node: Node) -> str:
    return decode(node.text or b"")


def _declarator_name(node: Node | None) -> Node | None:
    """Follow C/C++ declarator chains (pointer, function, array) down to the name."""
    while node is not None and node.type not in _NAME_LEAVES:
        node = node.child_by_field_name("declarator")
    return node


def _names(node: Node, key: str, top_level: bool) -> list[tuple[Node, str | None]]:
    """(name node, kind override) pairs a definition node introduces."""
    t = node.type
    if t in ("lexical_declaration", "variable_declaration"):
        if not top_level:
            return []
        out: list[tuple[Node, str | None]] = []
        for decl in node.named_children:
            name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
            if value is not None and _text(value).startswith(("require(", "import(")):
                continue  # an import, not a definition: it must not shadow the real one
            if decl.type == "variable_declarator" and name and name.type == "identifier":
                kind = "function" if value is not None and value.type in _FUNCTION_KINDS else None
                out.append((name, kind))
        return out
    if t == "expression_statement":
        if not top_level or not node.named_children:
            return []
        expr = node.named_children[0]
        if expr.type not in ("assignment", "assignment_expression"):
            return []
        left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
        if key == "python":
            if left is not None and left.type == "identifier" and _text(left).isupper():
                return [(left, None)]
            return []
        # CommonJS: exports.name = ... / module.exports.name = ...
        if left is None or left.type != "member_expression":
            return []
        obj, prop = left.child_by_field_name("object"), left.child_by_field_name("property")
        if obj is None or prop is None or _text(obj) not in ("exports", "module.exports"):
            return []
        fn = right is not None and right.type in _FUNCTION_KINDS
        return [(prop, "function" if fn else "constant")]
    if key in ("c", "cpp") and t in ("function_definition", "type_definition"):
        name = _declarator_name(node.child_by_field_name("declarator"))
        return [(name, None)] if name is not None else []
    name = node.child_by_field_name("name")
    if name is None:
        return []
    if t in ("struct_specifier", "enum_specifier", "class_specifier") and (
        node.child_by_field_name("body") is None
    ):
        return []  # a use (`struct foo *p`), not a definition
    return [(name, None)]


def _signature(node: Node) -> str:
    """Header text: from the definition's start to its body (or its first lines)."""
    body = None
    for field in _BODY_FIELDS:
        body = node.child_by_field_name(field)
        if body is not None:
            break
    if body is not None and body.start_byte > node.start_byte:
        raw = decode((node.text or b"")[: body.start_byte - node.start_byte]).rstrip()
        raw = raw.removesuffix("{").rstrip() if raw.endswith("{") else raw
    else:
        raw = decode(node.text or b"")
    lines = [ln.rstrip() for ln in raw.strip().splitlines()][:MAX_SIGNATURE_LINES]
    return "\n".join(lines)[:MAX_SIGNATURE_CHARS]


def _clean_comment(text: str) -> str:
    for raw in text.splitlines():
        line = raw.strip().lstrip("/*!#-").strip().rstrip("*/").strip()
        if line:
            return line[:160]
    return ""


def _doc(node: Node, outer: Node, key: str) -> str:
    """First line of the definition's documentation (docstring or preceding comment)."""
    if key == "python":
        body = node.child_by_field_name("body")
        first = body.named_children[0] if body is not None and body.named_children else None
        if first is not None and first.type == "expression_statement" and first.named_children:
            s = first.named_children[0]
            if s.type == "string":
                content = "".join(
                    decode(c.text or b"") for c in s.named_children if c.type == "string_content"
                )
                return _clean_comment(content)
        return ""
    prev = outer.prev_named_sibling
    adjacent = prev is not None and prev.end_point[0] >= outer.start_point[0] - 1
    if prev is not None and adjacent and "comment" in prev.type:
        # Walk up a run of // lines to the first one.
        while (
            (p := prev.prev_named_sibling) is not None
            and "comment" in p.type
            and p.end_point[0] >= prev.start_point[0] - 1
        ):
            prev = p
        return _clean_comment(decode(prev.text or b""))
    return ""


def extract_symbols(root: Node, key: str, path: str, limit: int = 2000) -> list[Symbol]:
    """All symbols of a parsed file, in source order, at most `limit`."""
    table = DEFINITIONS.get(key, {})
    out: list[Symbol] = []

    def walk(parent: Node, container: str, depth: int, outer_of: Node | None) -> None:
        for child in parent.named_children:
            if len(out) >= limit or depth > 6:
                return
            t = child.type
            if t in WRAPPERS:
                walk(child, container, depth + 1, child)
                continue
            kind = table.get(t)
            names = _names(child, key, top_level=not container and depth <= 2) if kind else []
            outer = outer_of if outer_of is not None else child
            for name_node, override in names:
                k = override or kind or "variable"
                if container and k == "function":
                    k = "method"
                out.append(
                    Symbol(
                        name=decode(name_node.text or b""),
                        kind=k,
                        path=path,
                        line=child.start_point[0],
                        signature=_signature(child),
                        doc=_doc(child, outer, key),
                        container=container,
                        end_line=child.end_point[0],
                    )
                )
            if t in CONTAINERS or t == "impl_item":
                body = child.child_by_field_name("body")
                label = names[0][0] if names else child.child_by_field_name("type")
                if body is not None:
                    walk(body, decode(label.text or b"") if label else container, depth + 1, None)
            outer_of = None

    walk(root, "", 0, None)
    return out
