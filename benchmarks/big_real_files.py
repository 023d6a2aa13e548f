"""Big real source files and the lines a cold-spot benchmark retypes in them.

Real, unmodified code (>= 100 KB) from what this project installs, one file per language:
Python from the virtualenv, JavaScript from the VS Code extension's node_modules, C and C++ from
the llama.cpp that the pinned llama-cpp-python vendors (scripts/build_llama_server.sh keeps its
tree). In each file, lines at spread-out places (20%, 50%, 80% through it): a one-line
statement inside a function body, 20-60 characters after the indentation, found with
tree-sitter (deterministic). Files are never written; the benchmark edits its in-memory copy.

    .venv/bin/python benchmarks/big_real_files.py     # prints the files and lines
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import llama_server  # noqa: E402
from smallcode_lsp.languages import language_for  # noqa: E402

MIN_BYTES = 100_000
MAX_BYTES = 600_000  # big hand-written modules, not multi-MB generated bundles
FRACTIONS = (0.2, 0.5, 0.8)
MIN_CHARS, MAX_CHARS = 20, 60  # typed length: 2.5-7.5 s at 8 chars/s

# languageId -> candidates in order of preference: (where, path under it). `where` is a Python
# module (its package directory, or the module file itself when the path is empty),
# "node_modules" (editors/vscode, after `npm ci`) or "llama.cpp" (the vendored source tree).
CANDIDATES: dict[str, tuple[tuple[str, str], ...]] = {
    "python": (
        ("transformers", "modeling_utils.py"),
        ("torch", "nn/modules/module.py"),
        ("typing_extensions", ""),
    ),
    "javascript": (
        ("node_modules", "lodash/lodash.js"),
        ("node_modules", "argparse/argparse.js"),
    ),
    "c": (("llama.cpp", "ggml/src/ggml.c"),),
    "cpp": (("llama.cpp", "src/llama-model.cpp"), ("llama.cpp", "tools/mtmd/clip.cpp")),
}
HINTS = {
    "node_modules": "cd editors/vscode && npm ci --no-audit --no-fund",
    "llama.cpp": "scripts/build_llama_server.sh",
}

FUNCTIONS = {  # tree-sitter node types whose `body` is a function body
    "function_definition",  # Python, C, C++
    "function_declaration",
    "function_expression",
    "function",
    "generator_function_declaration",
    "method_definition",
    "arrow_function",
    "lambda_expression",  # C++
    "method_declaration",  # Go
    "func_literal",  # Go
}
# Their children are statements (Go: a block holds a statement_list).
BLOCKS = {"block", "statement_block", "compound_statement", "statement_list"}


@dataclass(frozen=True)
class Spot:
    """A line to retype: cut to its indentation, then typed back."""

    path: Path
    language: str  # LSP languageId
    line: int  # 0-based
    text: str  # the whole line as in the file

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" \t"))

    @property
    def typed(self) -> str:
        return self.text[self.indent :]


def _resolve(where: str, relative: str) -> Path | None:
    if where == "node_modules":
        return ROOT / "editors" / "vscode" / "node_modules" / relative
    if where == "llama.cpp":
        source = llama_server.source_dir()
        return source / relative if source else None
    spec = importlib.util.find_spec(where)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    return origin.parent / relative if relative else origin


def find_files() -> dict[str, Path]:
    """languageId -> the first candidate that exists and is 100-600 KB; fails below 3 languages."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for language, candidates in CANDIDATES.items():
        for where, relative in candidates:
            path = _resolve(where, relative)
            size = path.stat().st_size if path is not None and path.is_file() else 0
            if path is not None and MIN_BYTES <= size <= MAX_BYTES:
                found[language] = path
                break
        else:
            wheres = sorted({where for where, _ in candidates})
            hints = [HINTS.get(where, f"pip install -e '.[test]' ({where})") for where in wheres]
            missing.append(f"{language}: run {' or '.join(hints)}")
    if len(found) < 3:
        raise FileNotFoundError("big real files missing: " + "; ".join(missing))
    for line in missing:
        print(f"skipping {line}", file=sys.stderr)
    return found


def statement_lines(text: str, language: str) -> list[int]:
    """0-based lines that hold exactly one whole statement of a function body, 20-60 chars."""
    grammar = language_for(language)
    if grammar is None:
        raise LookupError(f"no tree-sitter grammar for {language}")
    from tree_sitter import Parser

    data = text.encode()
    tree = Parser(grammar).parse(data)
    lines = text.split("\n")
    rows: set[int] = set()
    stack = [(tree.root_node, False)]
    while stack:
        node, in_body = stack.pop()
        row = node.start_point[0]
        if (
            in_body
            and node.is_named
            and node.parent is not None
            and node.parent.type in BLOCKS
            and row == node.end_point[0]
            and data[node.start_byte : node.end_byte].decode() == lines[row].strip()
            and MIN_CHARS <= len(lines[row].strip()) <= MAX_CHARS
            and lines[row].isascii()
        ):
            rows.add(row)
        body = node.child_by_field_name("body") if node.type in FUNCTIONS else None
        stack.extend((child, in_body or child == body) for child in node.children)
    return sorted(rows)


def file_spots(path: Path, language: str, fractions: tuple[float, ...] = FRACTIONS) -> list[Spot]:
    """One spot at or after each fraction of the file's lines."""
    text = path.read_text()
    lines = text.split("\n")
    rows = statement_lines(text, language)
    spots: list[Spot] = []
    for fraction in fractions:
        row = next((r for r in rows if r >= fraction * len(lines)), None)
        if row is not None and all(s.line != row for s in spots):
            spots.append(Spot(path, language, row, lines[row]))
    return spots


def spots(per_file: int = len(FRACTIONS)) -> list[Spot]:
    """Spots of all files, interleaved (file A, B, C, D, A, ...): every line switches file."""
    per_language = [file_spots(path, lang)[:per_file] for lang, path in find_files().items()]
    ordered: list[Spot] = []
    for i in range(max(map(len, per_language))):
        ordered.extend(group[i] for group in per_language if i < len(group))
    return ordered


def main() -> None:
    for language, path in find_files().items():
        size = path.stat().st_size
        lines = path.read_text().count("\n")
        print(f"{language}: {path} ({size / 1000:.0f} KB, {lines} lines)")
        for spot in file_spots(path, language):
            print(f"  line {spot.line + 1}: {spot.text!r}")


if __name__ == "__main__":
    main()
