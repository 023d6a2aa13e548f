"""Repeated-edit propagation on small texts: which edits repeat, and where."""

from __future__ import annotations

from smallcode_lsp.nextedit.propagate import infer, nearest_first, sites, whole_tokens
from smallcode_lsp.nextedit.text import Change, diff


def next_sites(before: str, after: str) -> list[tuple[str, str]]:
    """(old text, new text) of each site, in order, for the first pattern that has one."""
    change = diff(before, after)
    assert change is not None
    for pattern in infer(before, change):
        found = list(sites(pattern, after))
        if found:
            return [(after[s.start : s.end], s.text) for s in nearest_first(found, change.new_end)]
    return []


def test_an_edit_inside_a_word_is_widened_to_the_word() -> None:
    before = "count = count + 1"
    widened = whole_tokens(before, Change(5, "", "er"))
    assert (widened.start, widened.old, widened.new) == (0, "count", "counter")


def test_a_rename_offers_the_other_occurrences_below_first() -> None:
    before = "a = value\nvalue = compute(1)\nprint(value)\nvalues = 2\n"
    after = before.replace("value = compute", "result = compute")
    assert next_sites(before, after) == [("value", "result"), ("value", "result")]
    # below the edit first (print), then above it (line 1); `values` is another word
    change = diff(before, after)
    assert change is not None
    pattern = infer(before, change)[0]
    starts = [s.start for s in nearest_first(list(sites(pattern, after)), change.new_end)]
    assert starts == [after.index("print(value") + 6, after.index("value")]


def test_a_rewrite_keeps_the_names_it_kept_as_holes() -> None:
    before = "a = d.get(k)\nb = e.get(name)\nc = f.get(x, 1)\n"
    after = before.replace("d.get(k)", "d[k]")
    # `f.get(x, 1)` has two arguments: not the same shape, not offered
    assert next_sites(before, after) == [(".get(name)", "[name]")]


def test_an_insertion_is_anchored_by_the_names_around_it() -> None:
    before = "foo(a)\nbar(a)\nfoo(b)\n"
    after = before.replace("foo(a)", "foo(a, timeout=1)")
    # `bar(a)` shares only `(a)`: no name pins it
    assert next_sites(before, after) == [("", ", timeout=1")]


def test_whitespace_and_lone_punctuation_do_not_repeat() -> None:
    assert infer("f(a,b)\nf(c,d)\n", Change(3, "", " ")) == []
    assert next_sites("x = 1\ny = 1\n", "x = 2\ny = 1\n") == []


def test_an_applied_site_is_not_offered_again() -> None:
    before = "old()\nnew()\nold()\n"
    after = "new()\nnew()\nold()\n"
    assert next_sites(before, after) == [("old", "new")]


def test_a_line_inserted_is_structure_not_a_rewrite_of_a_word() -> None:
    # The diff places it mid-line (`co` + `ntextlib\nimport co` + `py`): never "rewrite `copy`"
    before = "import copy\n\nx = copy.copy(y)  # the copy's value\n"
    assert next_sites(before, before.replace("import copy", "import contextlib\nimport copy")) == []


def test_an_insertion_keeps_the_token_before_the_name_that_anchors_it() -> None:
    before = "<code>a</code>\n<code>b</code>\n"
    after = before.replace("<code>", '<code class="x">', 1)
    assert next_sites(before, after) == [("", ' class="x"')]  # not inside `</code>`
