"""Cross-file definitions for identifiers near the cursor, via the index and the file's imports."""

from __future__ import annotations

import os

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.scope import Import, identifiers_near, imports_of
from smallcode_lsp.languages import comment_prefix
from smallcode_lsp.types import ContextSnippet
from smallcode_lsp.workspace.index import WorkspaceIndex
from smallcode_lsp.workspace.symbols import Symbol

MAX_NAMES = 12  # definitions per completion; more rarely helps a small model and costs tokens
MAX_AMBIGUOUS = 6  # a name defined more often than this (and not imported) is noise: __init__
MAX_MEMBERS = 10
_TYPE_KINDS = {"class", "interface", "type", "enum"}


def _module_parts(module: str) -> list[str]:
    """'.decoder' -> ['decoder'], './lib/util.js' -> ['lib', 'util'], 'a::b' -> ['a', 'b']."""
    m = module.strip().strip("'\"<>")
    m = os.path.splitext(m)[0] if m.endswith((".js", ".ts", ".h", ".hpp", ".py")) else m
    for sep in ("::", "/", "."):
        m = m.replace(sep, " ")
    return [p for p in m.split() if p not in ("crate", "self", "super", "index", "__init__")]


def imported_from(imports: list[Import], name: str, path: str) -> bool:
    """True when `path` looks like the module an import of the current file names, and that
    import binds `name` (or binds the module object itself)."""
    stem_parts = os.path.splitext(path)[0].split(os.sep)  # index paths are already real
    if stem_parts[-1] in ("__init__", "index", "mod"):
        stem_parts = stem_parts[:-1]
    for imp in imports:
        parts = _module_parts(imp.module)
        if not parts:
            continue
        if stem_parts[-len(parts) :] == parts and (name in imp.names or not imp.names):
            return True
        if name in imp.names and stem_parts[-1] == parts[-1]:
            return True
    return False


def _pick(symbols: list[Symbol], imports: list[Import], name: str, here: str) -> Symbol | None:
    """The definition the identifier most likely refers to, or None when it is unclear."""
    others = [s for s in symbols if s.path != here]
    if not others or len(others) != len(symbols):
        return None  # defined in this file (already visible) or nowhere else
    imported = [s for s in others if imported_from(imports, name, s.path)]
    if imported:
        return imported[0]
    if len(others) > MAX_AMBIGUOUS or any(name in imp.names for imp in imports):
        return None
    here_dir = os.path.dirname(here)
    # Same directory first, then the shortest path: a sibling module beats a vendored copy.
    return min(others, key=lambda s: (os.path.dirname(s.path) != here_dir, len(s.path), s.line))


def render_symbol(index: WorkspaceIndex, sym: Symbol) -> str:
    """Signature (+ doc line as a comment, + member signatures for types) as a stub."""
    marker = comment_prefix("", sym.path)
    # A method alone reads like a function: name its class in the comment line.
    owner = f"{sym.container}.{sym.name}" if sym.container else ""
    head = ": ".join(x for x in (owner, sym.doc) if x)
    lines = [f"{marker} {head}"] if head else []
    lines.append(sym.signature)
    if sym.kind in _TYPE_KINDS:
        members = [m for m in index.symbols_in(sym.path) if m.container == sym.name]
        for m in members[:MAX_MEMBERS]:
            first = m.signature.splitlines()
            sig = " ".join(x.strip() for x in first)
            lines.append("    " + sig)
    return "\n".join(lines) + "\n"


def definition_snippets(
    index: WorkspaceIndex, parsed: ParsedDocument, offset: int, previous: list[str]
) -> tuple[list[ContextSnippet], list[str]]:
    """Definition snippets (best first) and the names they came from.

    Names chosen for the previous request that are still near the cursor keep their places,
    so moving one line does not reshuffle the context.
    """
    here = os.path.realpath(parsed.path) if parsed.path else ""
    near = identifiers_near(parsed, offset)
    near_set = set(near)
    ordered = [n for n in previous if n in near_set] + [n for n in near if n not in previous]
    imports = imports_of(parsed)
    out: list[ContextSnippet] = []
    names: list[str] = []
    for name in ordered:
        if len(names) >= MAX_NAMES:
            break
        sym = _pick(index.lookup(name), imports, name, here)
        if sym is None:
            continue
        names.append(name)
        text = render_symbol(index, sym)
        out.append(ContextSnippet(index.relative(sym.path), text, "definition"))
    return out, names
