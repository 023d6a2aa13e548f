"""benchmarks/next_edit_corpus.py and next_edit.py's scoring on tiny synthetic releases: the
diff into token edits, the grouping of repeated ones, and how a suggestion is judged against
the real edits left (pure; no download, no server)."""

from __future__ import annotations

from benchmarks.next_edit import (
    Span,
    apply_spans,
    judge,
    offset_of,
    position,
    reverses,
    shifted,
)
from benchmarks.next_edit_corpus import diff_edits, group_edits, tokenize

OLD = """\
def area(r):
    value = r * r
    print(value)
    return value + 1
"""
NEW = OLD.replace("value", "result")


def _applied(old: str, edits: list) -> str:
    return apply_spans(old, [Span(e.start, e.end, e.text) for e in edits])


def test_a_rename_repeated_three_times_is_one_group_of_three() -> None:
    edits = diff_edits(OLD, NEW)
    groups, alone = group_edits(edits)
    assert len(groups) == 1 and alone == []
    assert [OLD[e.start : e.end] for e in groups[0]] == ["value"] * 3
    assert _applied(OLD, edits) == NEW


def test_edits_apply_to_the_new_text_modulo_spacing() -> None:
    old = "x = f(a)\ny = g(b)\nz = 1\n"
    new = "x = f(a, c)\ny  =  g(b)\nw = 2\nz = 1\n"
    edits = diff_edits(old, new)
    got = _applied(old, edits)
    assert [t.text for t in tokenize(got)] == [t.text for t in tokenize(new)]
    assert old[edits[0].start : edits[0].end] == "" and edits[0].text == ", c"


def test_the_same_change_around_different_names_groups_by_its_holes() -> None:
    old = "a = d.get(k)\nb = d.get(j)\nc = d.get(i)\nprint(1)\n"
    new = "a = d[k]\nb = d[j]\nc = d[i]\nprint(2)\n"
    groups, alone = group_edits(diff_edits(old, new))
    assert [[old[e.start : e.end] for e in g] for g in groups] == [
        [".get(k)", ".get(j)", ".get(i)"]
    ]
    assert [(old[e.start : e.end], e.text) for e in alone] == [("1", "2")]


def test_a_change_made_once_is_left_alone() -> None:
    groups, alone = group_edits(diff_edits("a = 1\nb = 2\n", "a = 1\nb = 3\n"))
    assert groups == [] and len(alone) == 1


def test_a_suggestion_is_exact_partial_or_noise_against_the_edits_left() -> None:
    text = "f(value)\ng(value)\nh(other)\n"
    left = [Span(11, 16, "result", 1)]  # g's value
    assert judge(text, Span(11, 16, "result"), left)[0] == "exact"
    assert judge(text, Span(9, 17, "g(result)"), left)[0] == "exact"  # wider, same outcome
    assert judge(text, Span(11, 16, "resul"), left)[0] == "partial"
    assert judge(text, Span(20, 25, "result"), left)[0] == "noise"
    assert judge(text, Span(11, 16, "value"), left)[0] == "noise"  # changes nothing


def test_a_suggestion_undoing_the_users_edit_is_a_reversal() -> None:
    text = "f(result)\ng(value)\n"
    applied = [Span(2, 8, "value")]  # the user wrote `result` over `value`
    assert reverses(text, Span(2, 8, "value"), applied)
    assert reverses(text, Span(2, 8, ""), applied)
    assert not reverses(text, Span(12, 17, "result"), applied)


def test_spans_follow_an_edit_before_them_and_die_under_it() -> None:
    spans = [Span(0, 1, "a"), Span(5, 6, "b"), Span(10, 12, "c")]
    moved = shifted(spans, Span(4, 7, "xxxxx"))  # +2 chars over 4..7
    assert moved == [Span(0, 1, "a"), Span(12, 14, "c")]


def test_positions_count_utf16_units() -> None:
    text = "a\n\U0001f600b = 1\n"
    at = text.index("b")
    assert position(text, at) == {"line": 1, "character": 2}
    assert offset_of(text, {"line": 1, "character": 2}) == at


def test_percentiles_are_nearest_rank() -> None:
    from benchmarks.next_edit import pct

    values = [float(v) for v in range(1, 21)]
    assert (pct(values, 0.5), pct(values, 0.95), pct([], 0.5)) == (10.0, 19.0, None)
