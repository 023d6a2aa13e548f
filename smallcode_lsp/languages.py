"""Tree-sitter grammar table: LSP language ids and file extensions -> grammar, cached parsers.

Every lookup degrades to None (plain-text behaviour) instead of raising: a missing or broken
grammar wheel must never cost the user a completion.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from functools import cache

from tree_sitter import Language, Parser, Tree

log = logging.getLogger("smallcode_lsp.languages")

# canonical key -> (module, function returning the grammar pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "java": ("tree_sitter_java", "language"),
}

# LSP languageId -> canonical key
_IDS: dict[str, str] = {
    "python": "python",
    "javascript": "javascript",
    # The JavaScript grammar parses JSX itself.
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "tsx": "tsx",
    "go": "go",
    "rust": "rust",
    "c": "c",
    "cpp": "cpp",
    "java": "java",
}

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".java": "java",
}  # fmt: skip

# Canonical key -> LSP languageId, for files found on disk (the index, the evaluator).
LANGUAGE_IDS: dict[str, str] = {
    "python": "python", "javascript": "javascript", "typescript": "typescript",
    "tsx": "typescriptreact", "go": "go", "rust": "rust", "c": "c", "cpp": "cpp", "java": "java",
}  # fmt: skip

# Line comment prefix per canonical key; anything unknown gets "#" (plain text, shell, ...).
LINE_COMMENT: dict[str, str] = {"python": "#"} | {
    k: "//" for k in ("javascript", "typescript", "tsx", "go", "rust", "c", "cpp", "java")
}
_ID_COMMENTS = {
    "ruby": "#", "shellscript": "#", "yaml": "#", "toml": "#", "perl": "#", "r": "#",
    "lua": "--", "sql": "--", "haskell": "--", "csharp": "//", "kotlin": "//", "swift": "//",
    "scala": "//", "php": "//", "dart": "//", "zig": "//",
    "sh": "#", "bash": "#", "dockerfile": "#", "makefile": "#",
}  # fmt: skip

# languageIds of files without a grammar here, for paths given on the command line.
_OTHER_EXTENSIONS = {
    ".jsx": "javascriptreact", ".rb": "ruby", ".lua": "lua", ".sh": "shellscript", ".sql": "sql",
}  # fmt: skip


def language_key(language_id: str, path: str | None = None) -> str | None:
    """Canonical grammar key ("python", "tsx", ...) for an LSP language id / path, or None."""
    key = _IDS.get((language_id or "").lower())
    if path:
        ext = os.path.splitext(path)[1].lower()
        by_ext = EXTENSIONS.get(ext)
        # A .tsx file announced as "typescript" still needs the TSX grammar for its JSX.
        if key is None or (key == "typescript" and by_ext == "tsx"):
            key = by_ext
    return key


@cache
def _load(key: str) -> Language | None:
    module, func = _GRAMMARS[key]
    try:
        ptr = getattr(importlib.import_module(module), func)()
        return Language(ptr)
    except (ImportError, AttributeError, ValueError, TypeError, OSError) as exc:
        log.warning("grammar %s unavailable (%s): plain-text behaviour", key, exc)
        return None


def language_for(language_id: str, path: str | None = None) -> Language | None:
    """Tree-sitter Language for an LSP language id (or file path), None when not supported."""
    try:
        key = language_key(language_id, path)
        return _load(key) if key else None
    except Exception:  # never raise to callers: plain text is always a valid answer
        log.exception("language_for(%r, %r) failed", language_id, path)
        return None


def comment_prefix(language_id: str, path: str | None = None, default: str = "#") -> str:
    """Line-comment marker for a language (used for file headers shown to the model)."""
    key = language_key(language_id, path)
    if key:
        return LINE_COMMENT[key]
    return _ID_COMMENTS.get((language_id or "").lower(), default)


def language_id_for_path(path: str) -> str:
    """The languageId an editor would send for `path` ("plaintext" when unknown)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in _OTHER_EXTENSIONS:
        return _OTHER_EXTENSIONS[ext]
    key = EXTENSIONS.get(ext)
    return LANGUAGE_IDS[key] if key else "plaintext"


_local = threading.local()


def parser_for(language: Language) -> Parser:
    """A cached Parser for `language`, one per thread (tree-sitter parsers are not thread-safe)."""
    parsers: dict[int, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(id(language))
    if parser is None:
        parser = parsers[id(language)] = Parser(language)
    return parser


def parse_text(language: Language, text: str) -> Tree:
    """Parse a whole string (utf-8) with the thread's cached parser; returns a Tree."""
    return parser_for(language).parse(encode(text))


def encode(text: str) -> bytes:
    """UTF-8 bytes of `text`; lone surrogates (from UTF-16 clients) survive as 3-byte units."""
    return text.encode("utf-8", "surrogatepass")


def decode(data: bytes) -> str:
    """Inverse of `encode`."""
    return data.decode("utf-8", "surrogatepass")
