"""Edit history: keystrokes coalesced into user-level edits, spans kept in step."""

from __future__ import annotations

from smallcode_lsp.nextedit.history import GROUP_GAP_S, EditHistory
from smallcode_lsp.nextedit.propagate import whole_tokens


def typed(history: EditHistory, text: str, at: int, chars: str, now: float) -> tuple[str, float]:
    for ch in chars:
        now += 0.1
        text = text[:at] + ch + text[at:]
        at += 1
        history.record(text, now)
    return text, now


def test_typing_over_a_word_is_one_edit() -> None:
    text = "value = 1\nprint(value)\n"
    history = EditHistory(text)
    text = text[len("value") :]
    history.record(text, 0.0)
    text, _ = typed(history, text, 0, "result", 0.0)
    edits = history.recent()
    assert len(edits) == 1
    # `value` -> `re...t`: the diff trims the shared `e`, the span still covers all of `result`
    assert edits[0].span == (0, len("result"))
    widened = whole_tokens(edits[0].before, edits[0].change)
    assert (widened.old, widened.new) == ("value", "result")


def test_a_change_elsewhere_or_after_a_pause_is_a_new_edit() -> None:
    text = "a = 1\nb = 2\n"
    history = EditHistory(text)
    text, now = typed(history, text, 0, "x", 0.0)
    text, now = typed(history, text, text.index("b"), "y", now)
    assert len(history.recent()) == 2
    text, _ = typed(history, text, text.index("b"), "z", now + GROUP_GAP_S)
    assert len(history.recent()) == 3


def test_spans_follow_later_edits_and_vanish_when_overwritten() -> None:
    text = "aa bb cc\n"
    history = EditHistory(text)
    history.record("aa XX cc\n", 0.0)
    first = history.recent()[0]
    assert first.span == (3, 5)
    history.record("QQQ aa XX cc\n", 5.0)  # before it: shifted
    assert first.span == (7, 9)
    history.record("QQQ aa Y cc\n", 10.0)  # over it: gone
    assert first.span is None


def test_an_accepted_suggestion_is_its_own_edit() -> None:
    history = EditHistory("ab\n")
    history.record("aXb\n", 0.0)
    history.record("aXYb\n", 0.1, accepted=True)
    history.record("aXYZb\n", 0.2)
    assert [e.accepted for e in history.recent()] == [False, True, False]


def test_typing_right_after_a_paste_is_an_edit_of_its_own() -> None:
    history = EditHistory("")
    history.record("value = 1\nprint(value)\n", 0.0)  # the buffer replaced at once
    text = "result = 1\nprint(value)\n"
    history.record(text, 0.5)
    assert len(history.recent()) == 2
    assert (history.recent()[0].change.old, history.recent()[0].change.new) == ("value", "result")


def test_a_typed_letter_the_diff_places_one_too_far_right_still_extends_the_edit() -> None:
    history = EditHistory("cls = 1\n")
    history.record("s = 1\n", 0.0)  # `cl` selected and deleted
    history.record("as = 1\n", 0.1)
    history.record("ass = 1\n", 0.2)  # typed `s` before the old `s`: the diff says after it
    edits = history.recent()
    assert len(edits) == 1 and edits[0].span == (0, 2)


def test_typing_over_a_selection_the_diff_placed_too_far_right_is_one_edit() -> None:
    text = '#include "./cluster_inc.h"\n'
    history = EditHistory(text)
    at = text.index("./")
    text = text[:at] + text[at + len("./cluster_inc") :]  # the selection deleted: `".h"`
    history.record(text, 0.0)  # the diff: `/cluster_inc.` went, after the `.`
    text, _ = typed(history, text, at, "cluster_inc", 0.0)
    edits = history.recent()
    assert len(edits) == 1
    assert (edits[0].change.old, edits[0].change.new) == ("./", "")
    assert edits[0].span == (at, at + len("cluster_inc"))
