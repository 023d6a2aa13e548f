"""Snippet rendering: Qwen repo-level tokens or comment headers."""

from __future__ import annotations

from smallcode_lsp.context.repo_format import render_file_header, render_snippets
from smallcode_lsp.types import ContextSnippet

SNIPPETS = (
    ContextSnippet("json/decoder.py", "class JSONDecoder(object):\n", "definition"),
    ContextSnippet("json/decoder.py", "def py_scanstring(s, end, strict=True):\n", "definition"),
    ContextSnippet("clone.js", "function clone (obj)\n", "definition"),
)


def test_repo_tokens() -> None:
    out = render_snippets(SNIPPETS, "python", repo_tokens=True, repo_name="smallcode")
    assert out == (
        "<|repo_name|>smallcode\n"
        "<|file_sep|>json/decoder.py\n"
        "class JSONDecoder(object):\ndef py_scanstring(s, end, strict=True):\n"
        "<|file_sep|>clone.js\nfunction clone (obj)\n"
    )
    header = render_file_header("json/__init__.py", "python", True)
    assert header == "<|file_sep|>json/__init__.py\n"


def test_comment_headers_use_each_files_own_syntax() -> None:
    out = render_snippets(SNIPPETS, "python", repo_tokens=False, repo_name="smallcode")
    assert out.startswith("# json/decoder.py\nclass JSONDecoder(object):\n")
    assert "// clone.js\nfunction clone (obj)\n" in out
    assert "<|" not in out
    assert render_file_header("main.go", "go", False) == "// main.go\n"


def test_empty() -> None:
    assert render_snippets((), "python", repo_tokens=False, repo_name="x") == ""
    assert render_file_header(None, "python", False) == ""
