"""Grammar table: every supported id parses its real code; anything else is plain text."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from smallcode_lsp.languages import comment_prefix, language_for, language_key, parse_text

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.mark.parametrize(
    ("language_id", "rel"),
    [
        ("python", "py_stdlib/bisect.py"),
        ("javascript", "js_graceful_fs/clone.js"),
        ("javascriptreact", "js_graceful_fs/clone.js"),
        ("typescript", "multi/api-fetch.ts"),
        ("typescriptreact", "multi/api-fetch.ts"),
        ("go", "multi/client.go"),
        ("rust", "multi/main.rs"),
        ("c", "multi/realpath.c"),
        ("cpp", "multi/llama-memory.cpp"),
    ],
)
def test_each_language_parses_its_real_code(language_id: str, rel: str) -> None:
    language = language_for(language_id)
    assert language is not None
    tree = parse_text(language, (FIXTURES / rel).read_text())
    assert not tree.root_node.has_error


def test_java_grammar_loads() -> None:
    language = language_for("java")
    assert language is not None
    src = "class A { int f(int x) { return x + 1; } }"
    assert not parse_text(language, src).root_node.has_error


def test_unknown_languages_are_none_and_never_raise() -> None:
    for language_id in ("plaintext", "markdown", "", "COBOL", "\0"):
        assert language_for(language_id) is None
    assert language_for("plaintext", "/x/readme") is None


def test_path_decides_when_id_is_unknown_or_tsx() -> None:
    assert language_key("", "/a/b.py") == "python"
    assert language_key("typescript", "/a/App.tsx") == "tsx"
    assert language_key("typescriptreact", None) == "tsx"
    assert language_for("unknown", "/a/b.rs") is not None


def test_comment_prefixes() -> None:
    assert comment_prefix("python") == "#"
    assert comment_prefix("go") == "//"
    assert comment_prefix("lua") == "--"
    assert comment_prefix("markdown") == "#"


def test_parsers_are_per_thread() -> None:
    language = language_for("python")
    assert language is not None
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                assert not parse_text(language, "def f(x):\n    return x\n").root_node.has_error
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
