"""Symbol extraction where no real file of the language is available on this machine (Java,
C++ classes): small inline sources, so the grammar tables are at least exercised."""

from __future__ import annotations

from smallcode_lsp.languages import language_for, parse_text
from smallcode_lsp.workspace.symbols import extract_symbols

JAVA = """package a;
/** A thing. */
public class Foo extends Bar {
  /** Make it. */
  public Foo(int x) { this.x = x; }
  // Adds.
  int add(int a, int b) { return a + b; }
}
"""
CPP = """namespace ns {
class Widget {
 public:
  int size() const { return n; }
};
}
"""


def _symbols(language_id: str, src: str) -> list[tuple[str, str, str, str, str]]:
    language = language_for(language_id)
    assert language is not None
    root = parse_text(language, src).root_node
    return [
        (s.kind, s.name, s.container, s.signature, s.doc)
        for s in extract_symbols(root, language_id, "f")
    ]


def test_java() -> None:
    assert _symbols("java", JAVA) == [
        ("class", "Foo", "", "public class Foo extends Bar", "A thing."),
        ("method", "Foo", "Foo", "public Foo(int x)", "Make it."),
        ("method", "add", "Foo", "int add(int a, int b)", "Adds."),
    ]


def test_cpp_class_members() -> None:
    assert _symbols("cpp", CPP) == [
        ("class", "Widget", "", "class Widget", ""),
        ("method", "size", "Widget", "int size() const", ""),
    ]
