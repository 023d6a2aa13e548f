"""ContextBuilder on real code: cross-file definitions, scope/imports, token budgets, stability."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from smallcode_lsp.context.builder import HEADER_TOKENS, SNIPPET_SHARE, ContextBuilder
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, PromptParts
from smallcode_lsp.workspace.index import WorkspaceIndex
from smallcode_lsp.workspace.recent import RecentSnippets

FIXTURES = Path(__file__).parents[1] / "fixtures"


def tokens(text: str) -> int:
    """Fake tokenizer: about 4 characters per token, like real BPE on code."""
    return (len(text) + 3) // 4


@pytest.fixture(scope="module")
def index() -> Iterator[WorkspaceIndex]:
    idx = WorkspaceIndex([str(FIXTURES / "py_json"), str(FIXTURES / "js_graceful_fs")], watch=False)
    idx.start()
    assert idx.ready.wait(10)
    yield idx
    idx.stop()


def _request(path: Path, language_id: str, text: str, offset: int) -> CompletionRequest:
    doc = DocumentSnapshot(path.as_uri(), text, language_id, 1, str(path))
    return CompletionRequest(doc, offset)


def _at(rel: str, language_id: str, marker: str, extra: int = 0) -> CompletionRequest:
    path = FIXTURES / rel
    text = path.read_text()
    return _request(path, language_id, text, text.index(marker) + extra)


def _packed(parts: PromptParts) -> int:
    return tokens(parts.prefix) + sum(tokens(s.text) + HEADER_TOKENS for s in parts.snippets)


def test_python_definitions_resolved_through_relative_imports(index: WorkspaceIndex) -> None:
    req = _at("py_json/json/__init__.py", "python", "return _default_decoder.decode(s)")
    parts = ContextBuilder(index, None, tokens).build(req, None, 1200, 150)
    defs = [s for s in parts.snippets if s.kind == "definition"]
    assert defs and {s.path for s in defs} == {"json/decoder.py"}
    joined = "".join(s.text for s in defs)
    assert "class JSONDecoder(object):" in joined
    assert "def decode(self, s, _w=WHITESPACE.match):" in joined  # a member of the class
    assert parts.file_path == "json/__init__.py"


def test_javascript_definitions_resolved_through_require(index: WorkspaceIndex) -> None:
    req = _at("js_graceful_fs/graceful-fs.js", "javascript", "module.exports = patch(clone(fs))")
    parts = ContextBuilder(index, None, tokens).build(req, None, 800, 150)
    defs = {s.path: s.text for s in parts.snippets if s.kind == "definition"}
    assert "function clone (obj)" in defs["clone.js"]
    # `patch` is defined in graceful-fs.js itself: the polyfills.js `patch` must not be shown.
    assert "polyfills.js" not in defs


@pytest.mark.parametrize("budget", [120, 300, 700, 2000])
def test_budget_packing_in_tokens(index: WorkspaceIndex, budget: int) -> None:
    req = _at("py_json/json/__init__.py", "python", "return _default_decoder.decode(s)")
    parts = ContextBuilder(index, RecentSnippets(), tokens).build(req, None, budget, budget // 4)
    assert _packed(parts) <= budget
    assert tokens(parts.suffix) <= budget // 4
    assert req.prefix.endswith(parts.prefix)
    cut = len(req.prefix) - len(parts.prefix)
    assert cut == 0 or req.prefix[cut - 1] == "\n"  # whole lines only
    assert req.suffix.startswith(parts.suffix)
    assert parts.suffix.endswith("\n") or parts.suffix == req.suffix.split("\n")[0]
    if budget >= 700:
        assert any(s.kind == "definition" for s in parts.snippets)


def test_scope_and_imports_only_when_cut_off(index: WorkspaceIndex) -> None:
    req = _at("py_json/json/__init__.py", "python", "return _default_decoder.decode(s)")
    small = ContextBuilder(index, None, tokens).build(req, None, 400, 100)
    kinds = {s.kind: s for s in small.snippets}
    assert kinds["scope"].text.startswith("def loads(s, *, cls=None,")
    assert "from .decoder import JSONDecoder, JSONDecodeError" in kinds["import"].text
    # Everything fits: the prefix shows imports and the def line, no snippet repeats them.
    big = ContextBuilder(index, None, tokens).build(req, None, 20_000, 5000)
    assert big.prefix == req.prefix
    assert not [s for s in big.snippets if s.kind in ("scope", "import")]


def test_window_from_the_top_never_repeats_imports_on_any_keystroke(
    index: WorkspaceIndex,
) -> None:
    # The first estimate (0.3 tokens/char) says the prefix will be cut, the real count (0.25)
    # says it fits whole: imports must not be added as a snippet on the first request, nor
    # come and go on later ones (each change re-evaluates the whole prompt).
    req = _at("js_graceful_fs/graceful-fs.js", "javascript", "return go$readFile(path")
    budget = int(len(req.prefix) * 0.3)
    assert tokens(req.prefix) + 100 < budget
    builder = ContextBuilder(index, None, tokens)
    for typed in ("", "r", "re", "ret"):
        text = req.document.text[: req.offset] + typed + req.document.text[req.offset :]
        path = Path(req.document.path or "")
        request = _request(path, "javascript", text, req.offset + len(typed))
        parts = builder.build(request, None, budget, budget // 4)
        assert parts.prefix == request.prefix
        assert not [s for s in parts.snippets if s.kind in ("scope", "import")]


def test_nested_scope_headers_keep_indentation() -> None:
    req = _at("../fixtures/py_stdlib/textwrap.py", "python", "        lines = []")
    parts = ContextBuilder(None, None, tokens).build(req, None, 200, 50)
    scope = next(s for s in parts.snippets if s.kind == "scope")
    assert scope.text == "class TextWrapper:\n    def _wrap_chunks(self, chunks):\n"


def test_snippets_stable_while_typing(index: WorkspaceIndex) -> None:
    path = FIXTURES / "py_json/json/__init__.py"
    text = path.read_text()
    at = text.index("    return _default_decoder.decode(s)")
    builder = ContextBuilder(index, RecentSnippets(), tokens)
    doc = ParsedDocument(text, "python", str(path))
    seen = set()
    typed = "    result = JSONDecoder().decode(s)"
    doc.apply_edit(at, at, "\n")
    for i in range(4, len(typed) + 1):  # one request per keystroke
        doc.apply_edit(at, at + i - 1, typed[:i])
        parts = builder.build(_request(path, "python", doc.text, at + i), doc, 500, 100)
        seen.add((parts.snippets, parts.prefix.split("\n", 1)[0]))
    assert len(seen) <= 2  # at most one change: when `JSONDecoder` becomes a complete word


def test_recent_chunks_from_other_files_only(index: WorkspaceIndex) -> None:
    recent = RecentSnippets()
    other = FIXTURES / "py_json/json/scanner.py"
    recent.add(str(other), other.read_text()[:1500])
    req = _at("py_json/json/__init__.py", "python", "return _default_decoder.decode(s)")
    recent.add(str(req.document.path), req.prefix[-1200:])  # what is already on screen
    parts = ContextBuilder(index, recent, tokens).build(req, None, 3000, 200)
    shown = [s for s in parts.snippets if s.kind == "recent"]
    assert [s.path for s in shown] == ["json/scanner.py"]


def test_plain_text_without_index() -> None:
    text = "line one\nline two\n" * 50
    req = CompletionRequest(DocumentSnapshot("file:///tmp/notes.txt", text, "plaintext"), 400)
    parts = ContextBuilder(None, None, tokens).build(req, None, 30, 10)
    assert parts.snippets == ()
    assert tokens(parts.prefix) <= 30 and text[:400].endswith(parts.prefix)


def word_tokens(text: str) -> int:
    """Fake tokenizer whose tokens/char differs between windows, as a real one's does."""
    return len(re.findall(r"\w+|[^\w\s]|\s+", text))


def _spots(path: Path, language_id: str, every: int) -> list[CompletionRequest]:
    text = path.read_text()
    starts = [m.end() for m in re.finditer(r"\n +\S", text)][::every]
    return [_request(path, language_id, text, at - 1) for at in starts if at > len(text) // 4]


@pytest.mark.parametrize("small", [256, 512])
def test_a_spot_gets_the_same_prompt_again_after_other_sizes(
    index: WorkspaceIndex, small: int
) -> None:
    # A warm-up builds the full prompt and a small one, the first key does the same: its small
    # prompt must be the warm-up's (another front is a whole prefill). Each size measured its
    # own tokens/char; the small build used to take the full build's, and chose other snippets.
    builder = ContextBuilder(index, RecentSnippets(), word_tokens)
    spots = _spots(FIXTURES / "py_stdlib/textwrap.py", "python", 7)
    spots += _spots(FIXTURES / "js_graceful_fs/graceful-fs.js", "javascript", 5)
    assert len(spots) >= 10
    for request in spots:
        first = [builder.build(request, None, size, 0) for size in (2048, small)][1]
        again = [builder.build(request, None, size, 0) for size in (2048, small)][1]
        assert again == first


@pytest.mark.parametrize("small", [256, 512])
def test_snippets_never_squeeze_the_window_at_a_new_spot(index: WorkspaceIndex, small: int) -> None:
    # Each pass of a build at a new spot left the snippets what the last window left: a later
    # start gave them more, which made the window shorter still (1 token of prefix, 253 of
    # snippets). The window keeps what SNIPPET_SHARE leaves it, at the fill of a new window.
    for request in _spots(FIXTURES / "py_stdlib/textwrap.py", "python", 7):
        parts = ContextBuilder(index, RecentSnippets(), word_tokens).build(request, None, small, 0)
        snippets = sum(word_tokens(s.text) + HEADER_TOKENS for s in parts.snippets)
        assert snippets <= small * SNIPPET_SHARE
        assert word_tokens(parts.prefix) >= 0.4 * small  # FILL and line snapping take some
