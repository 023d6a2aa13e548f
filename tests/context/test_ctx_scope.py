"""Scope chain, imports and identifiers near the cursor, on real stdlib / npm code."""

from __future__ import annotations

from pathlib import Path

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.scope import identifiers_near, imports_of, scope_chain

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _doc(rel: str, language_id: str) -> ParsedDocument:
    path = FIXTURES / rel
    return ParsedDocument(path.read_text(), language_id, str(path))


def test_python_method_scope_chain() -> None:
    doc = _doc("py_stdlib/textwrap.py", "python")
    offset = doc.text.index("lines = []", doc.text.index("def _wrap_chunks"))
    chain = scope_chain(doc, offset)
    assert [s.header.split("(")[0].split(":")[0] for s in chain] == [
        "class TextWrapper",
        "def _wrap_chunks",
    ]
    assert chain[1].header == "def _wrap_chunks(self, chunks):"
    assert doc.text[chain[0].start :].startswith("class TextWrapper:")


def test_module_level_has_no_scope() -> None:
    doc = _doc("py_stdlib/textwrap.py", "python")
    assert scope_chain(doc, doc.text.index("import re") + 3) == []


def test_javascript_nested_function_scope_chain() -> None:
    doc = _doc("js_graceful_fs/polyfills.js", "javascript")
    inner = doc.text.index("fs.lchmod = function (path, mode, callback) {")
    offset = doc.text.index("\n", inner) + 1
    headers = [s.header for s in scope_chain(doc, offset)]
    assert headers[0] == "function patch (fs)"
    assert "function patchLchmod (fs)" in headers
    assert headers[-1] == "function (path, mode, callback)"


def test_python_relative_imports() -> None:
    doc = _doc("py_json/json/__init__.py", "python")
    imports = imports_of(doc)
    by_module = {imp.module: imp.names for imp in imports}
    assert by_module[".decoder"] == ("JSONDecoder", "JSONDecodeError")
    assert by_module[".encoder"] == ("JSONEncoder",)
    assert by_module["codecs"] == ("codecs",)


def test_commonjs_requires_are_imports() -> None:
    doc = _doc("js_nopt/lib/nopt-lib.js", "javascript")
    by_module = {imp.module: imp.names for imp in imports_of(doc)}
    assert by_module["./debug"] == ("debug",)
    assert by_module["./type-defs"] == ("defaultTypeDefs",)
    assert by_module["abbrev"] == ("abbrev",)


def test_identifiers_near_nearest_first_without_the_word_being_typed() -> None:
    doc = _doc("py_json/json/__init__.py", "python")
    line = doc.text.index("    return _default_decoder.decode(s)")
    doc.apply_edit(line, line, "    JSONDec\n")  # the user is typing a new line
    offset = line + len("    JSONDec")
    names = identifiers_near(doc, offset)
    assert "JSONDec" not in names  # the word under the cursor changes every keystroke
    assert "_default_decoder" in names[:4]  # the very next line
    assert names.index("_default_decoder") < names.index("JSONDecoder")


def test_identifiers_near_plain_text() -> None:
    doc = ParsedDocument("alpha beta\ngamma del", "plaintext")
    assert identifiers_near(doc, len(doc.text)) == ["gamma", "alpha", "beta"]
