"""Each post-processing filter on its own, on real code, plus the chain end to end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import decide_shape
from smallcode_lsp.postprocess import (
    drop_blank,
    drop_dangling_operator,
    limit_no_worse_parse,
    limit_to_block,
    remove_next_line_repeat,
    remove_repetition,
    remove_suffix_duplication,
    remove_unbalanced_closers,
    trim_leading_space,
    trim_trailing_whitespace,
)
from smallcode_lsp.postprocess.base import FilterConfig, FilterContext, guarded
from smallcode_lsp.postprocess.chain import FILTERS, postprocess
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot

FIXTURES = Path(__file__).parents[1] / "fixtures"
CONFIG = FilterConfig()
LANG = {".py": "python", ".js": "javascript"}


def hole(
    rel: str, start_marker: str, end_marker: str | None = None, skip: int = 0
) -> FilterContext:
    """Context with the cursor after `start_marker` (+skip) and the text up to `end_marker`
    (exclusive, searched after the cursor) removed: a real file with a real hole."""
    path = FIXTURES / rel
    text = path.read_text()
    cursor = text.index(start_marker) + len(start_marker) + skip
    end = text.index(end_marker, cursor) if end_marker is not None else cursor
    doc_text = text[:cursor] + text[end:]
    language_id = LANG[path.suffix]
    req = CompletionRequest(DocumentSnapshot(path.as_uri(), doc_text, language_id), cursor)
    parsed = ParsedDocument(doc_text, language_id, str(path))
    return FilterContext(req, parsed, decide_shape(req, parsed))


def run(module: object, text: str, ctx: FilterContext) -> str:
    return module.make(CONFIG)(text, ctx)  # type: ignore[attr-defined]


BISECT_LINE = ("py_stdlib/bisect.py", "            lo = ", "\n")


def test_trim_trailing_whitespace() -> None:
    ctx = hole(*BISECT_LINE)
    assert run(trim_trailing_whitespace, "mid + 1   \n\n", ctx) == "mid + 1"
    # Text follows on the cursor line: a trailing space separates it from the completion.
    ctx2 = hole("py_stdlib/bisect.py", "            lo = ", "+ 1")
    assert run(trim_trailing_whitespace, "mid ", ctx2) == "mid "


def test_trim_leading_space() -> None:
    ctx = hole(*BISECT_LINE)
    assert run(trim_leading_space, " mid + 1", ctx) == "mid + 1"
    ctx2 = hole("py_stdlib/bisect.py", "            lo =", "\n")
    assert run(trim_leading_space, " mid + 1", ctx2) == " mid + 1"


def test_remove_repetition_cuts_loops() -> None:
    ctx = hole(*BISECT_LINE)
    looped = "mid + 1\n" + "lo = mid + 1\n" * 5
    assert run(remove_repetition, looped, ctx) == "mid + 1\nlo = mid + 1"
    block = "            if x < a[mid]: hi = mid\n            else: lo = mid + 1\n"
    assert run(remove_repetition, "mid + 1\n" + block * 3, ctx) == "mid + 1\n" + block.rstrip()
    assert run(remove_repetition, "a" + ", None" * 12, ctx) == "a, None"


def test_remove_repetition_leaves_real_code_alone() -> None:
    ctx = hole(*BISECT_LINE)
    for rel in ("py_stdlib/textwrap.py", "py_json/json/encoder.py", "js_nopt/lib/nopt-lib.js"):
        text = (FIXTURES / rel).read_text()
        for chunk in text.split("\n\n"):  # every paragraph of real code, as if generated
            assert run(remove_repetition, chunk, ctx) == chunk


def test_limit_to_block_single_line_and_block() -> None:
    ctx = hole(*BISECT_LINE)
    assert run(limit_to_block, "mid + 1\n        else:\n", ctx) == "mid + 1"
    text = (FIXTURES / "py_stdlib/textwrap.py").read_text()
    body_start = text.index("\n", text.index("def indent(text, prefix, predicate=None):"))
    body = text[body_start : text.index("\n\n\nif __name__", body_start)]
    block_ctx = hole("py_stdlib/textwrap.py", "def indent(text, prefix, predicate=None):",
                     "\n\n\nif __name__")  # fmt: skip
    assert run(limit_to_block, body + "\n\n\ndef more():\n    pass\n", block_ctx).rstrip() == body


def test_remove_next_line_repeat() -> None:
    # Cursor on a fresh blank line just above `module.exports = patch(clone(fs))`.
    ctx = hole("js_graceful_fs/graceful-fs.js", "  publishQueue(global, fs[gracefulQueue]);\n}\n")
    assert ctx.next_lines(1) == ["module.exports = patch(clone(fs))"]
    assert run(remove_next_line_repeat, "module.exports = patch(clone(fs))\nfoo()", ctx) == ""
    assert run(remove_next_line_repeat, "debug('x')\nmodule.exports = patch(clone(fs))", ctx) == (
        "debug('x')"
    )
    assert run(remove_next_line_repeat, "debug('x')", ctx) == "debug('x')"
    # Cut short while re-typing the next line: the fragment is a repeat in the making.
    cut_short = replace(ctx, truncated=True)
    assert run(remove_next_line_repeat, "debug('x')\nmodule.exports = pa", cut_short) == (
        "debug('x')"
    )
    assert run(remove_next_line_repeat, "module.exp", cut_short) == ""
    assert run(remove_next_line_repeat, "module.exp", ctx) == "module.exp"  # whole: a new line
    assert run(remove_next_line_repeat, "mod", cut_short) == "mod"  # too short to tell


def test_remove_suffix_duplication() -> None:
    # The completion re-types the rest of the cursor line.
    ctx = hole("py_stdlib/bisect.py", "            lo = ")
    assert run(remove_suffix_duplication, "mid + 1", ctx) == ""
    # The completion's last line is the `}` that already follows.
    js = hole("js_graceful_fs/polyfills.js", "  function patchLchmod (fs) {", "\n  }\n")
    body = "\n    fs.lchmod = null"
    assert run(remove_suffix_duplication, body + "\n  }", js) == body


def test_remove_unbalanced_closers() -> None:
    ctx = hole("js_graceful_fs/graceful-fs.js", "module.exports = patch(clone(", "))")
    assert run(remove_unbalanced_closers, "fs))", ctx) == "fs"
    assert run(remove_unbalanced_closers, "fs)))", ctx) == "fs"  # overshoot is stray too
    assert run(remove_unbalanced_closers, "fs", ctx) == "fs"
    assert run(remove_unbalanced_closers, "a(fs)", ctx) == "a(fs)"  # balanced: untouched


def test_limit_no_worse_parse() -> None:
    ctx = hole(*BISECT_LINE)  # `lo = ` with nothing after: the file has one error already
    assert run(limit_no_worse_parse, "mid + 1", ctx) == "mid + 1"  # fixes it: kept
    assert run(limit_no_worse_parse, "mid + 1)", ctx) == ""  # worse, no shorter line cut
    text = (FIXTURES / "py_stdlib/textwrap.py").read_text()
    body_start = text.index("\n", text.index("def indent(text, prefix, predicate=None):"))
    body = text[body_start : text.index("\n\n\nif __name__", body_start)]
    block_ctx = hole("py_stdlib/textwrap.py", "def indent(text, prefix, predicate=None):",
                     "\n\n\nif __name__")  # fmt: skip
    # Good body, then a broken line: cut back to the longest clean line prefix.
    assert run(limit_no_worse_parse, body + "\n    return (", block_ctx) == body


def test_a_cut_short_docstring_or_call_it_opened_is_kept() -> None:
    """A deadline cut an answer inside a construct it opened (a body's docstring: the first
    line is only its quotes): judged as if closed, not dropped for the missing end."""
    body = hole("py_stdlib/bisect.py", "def insort_right(a, x, lo=0, hi=None, *, key=None):\n    ",
                "\n\n\ndef bisect_right")  # fmt: skip
    cut_short = replace(body, truncated=True)
    start = '"""\n    Insert item x in list a, and keep it sorted.'
    assert run(limit_no_worse_parse, start, cut_short) == start
    call = "lo = bisect_right(\n        a,\n        x"
    assert run(limit_no_worse_parse, call, cut_short) == call
    # A broken line is still broken when closed: dropped as before.
    assert run(limit_no_worse_parse, "lo = (\n        ]] x\n        more", cut_short) == ""
    # Whole (not cut short), the unterminated docstring parses worse: dropped.
    assert run(limit_no_worse_parse, start, body) == ""


def test_limit_no_worse_parse_judges_only_complete_lines_of_a_cut_short_completion() -> None:
    ctx = hole(*BISECT_LINE)
    cut_short = replace(ctx, truncated=True)
    # "(mid" is the start of an answer the deadline cut: the rest may well close it.
    assert run(limit_no_worse_parse, "(mid", ctx) == ""
    assert run(limit_no_worse_parse, "(mid", cut_short) == "(mid"
    # Complete lines are still judged: a broken first line drops the fragment after it too.
    assert run(limit_no_worse_parse, "mid + 1)\n    hi = (", cut_short) == ""
    assert run(limit_no_worse_parse, "mid + 1\n            hi = (", cut_short) == (
        "mid + 1\n            hi = ("
    )


def test_drop_dangling_operator() -> None:
    # `mid = (lo + hi) // 2` removed from a loop body that parses without it.
    ctx = replace(hole("py_stdlib/bisect.py", "while lo < hi:\n            ", "\n"), truncated=True)
    assert ctx.request.document.text[ctx.request.offset :].startswith("\n")
    # Accepting `mid = (lo + hi) //` would leave a dangling operator: it goes.
    assert run(drop_dangling_operator, "mid = (lo + hi) //", ctx) == "mid = (lo + hi)"
    assert run(drop_dangling_operator, "mid = (lo + hi) // ", ctx) == "mid = (lo + hi)"
    assert run(drop_dangling_operator, "mid = (", ctx) == "mid"
    # Words are type-along material: an open call keeps them all.
    assert run(drop_dangling_operator, "mid = (lo + hi", ctx) == "mid = (lo + hi"
    assert run(drop_dangling_operator, "mid = f(lo, ", ctx) == "mid = f(lo, "  # `f(lo` no better
    assert run(drop_dangling_operator, "mid = lo", ctx) == "mid = lo"
    # A header's `:` is not dangling when dropping it parses no better (the body is missing).
    assert run(drop_dangling_operator, "while lo < hi:", ctx) == "while lo < hi:"
    # The fragment on a new line is judged as that line; earlier lines are left alone.
    assert run(drop_dangling_operator, "mid = lo\n            hi = mid +", ctx) == (
        "mid = lo\n            hi = mid"
    )
    # Not cut short, the text is limit_no_worse_parse's to judge whole.
    whole = replace(ctx, truncated=False)
    assert run(drop_dangling_operator, "mid = (lo + hi) //", whole) == "mid = (lo + hi) //"
    # Mid-line in JavaScript, the rest of the line removed: `go$readFile(` loses its `(`.
    js = replace(hole("js_graceful_fs/graceful-fs.js", "    return go$", "\n", 0), truncated=True)
    assert run(drop_dangling_operator, "readFile(", js) == "readFile"
    assert run(drop_dangling_operator, "readFile(path, ", js) == "readFile(path, "
    # No grammar, no judge.
    plain = CompletionRequest(DocumentSnapshot("file:///n.txt", "a = ", "plaintext"), 4)
    plain_ctx = FilterContext(plain, None, decide_shape(plain, None), truncated=True)
    assert run(drop_dangling_operator, "b +", plain_ctx) == "b +"


def test_drop_blank() -> None:
    ctx = hole(*BISECT_LINE)
    assert run(drop_blank, " \n\t\n", ctx) == ""
    assert run(drop_blank, "x", ctx) == "x"


def test_filters_never_raise() -> None:
    def broken(text: str, ctx: FilterContext) -> str:
        raise IndexError("bug")

    req = CompletionRequest(DocumentSnapshot("file:///e.py", "", "python"), 0)
    ctx = FilterContext(req, None, decide_shape(req, None))
    assert guarded("broken", broken)("keep me", ctx) == "keep me"
    for module in FILTERS:
        for text in ("", "\n", ")", "x" * 500, "é🙂\n\t}"):
            assert isinstance(run(module, text, ctx), str)


@pytest.mark.parametrize("keep_closer", [True, False])
def test_chain_on_a_looping_js_block(keep_closer: bool) -> None:
    path = FIXTURES / "js_graceful_fs/polyfills.js"
    text = path.read_text()
    start = text.index("{", text.index("  function patchLchmod (fs) {")) + 1
    closer = text.index("\n  }\n", start)  # the function's own closing brace
    after = closer if keep_closer else closer + len("\n  }")
    doc_text = text[:start] + text[after:]
    req = CompletionRequest(DocumentSnapshot(path.as_uri(), doc_text, "javascript"), start)
    parsed = ParsedDocument(doc_text, "javascript")
    generated = text[start:closer] + "\n  }\n  }\n  }\n  }\n"  # the model loops on closers
    out = postprocess(generated, req, parsed, decide_shape(req, parsed))
    assert out == text[start:after]


def test_chain_drops_a_retyped_suffix() -> None:
    ctx = hole("py_stdlib/bisect.py", "            lo = ")
    assert postprocess("mid + 1", ctx.request, ctx.parsed, ctx.shape) == ""


def test_limit_no_worse_parse_inside_an_unclosed_construct() -> None:
    """Typing the entries of a dict whose `}` is not written yet: the file is broken before
    and after any entry, so an entry is kept; a new error inside the entry is not."""
    text = 'import operator\n\nOPERATIONS = {\n    "add": operator.add,\n    "mul": '
    req = CompletionRequest(DocumentSnapshot("file:///ops.py", text, "python"), len(text))
    ctx = FilterContext(req, None, decide_shape(req, None))
    assert run(limit_no_worse_parse, "operator.mul,", ctx) == "operator.mul,"
    assert run(limit_no_worse_parse, "operator.mul)),", ctx) == ""
