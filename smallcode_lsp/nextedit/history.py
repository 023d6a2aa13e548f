"""A document's recent user-level edits, from its successive texts.

Keystrokes that continue the same contiguous region within `GROUP_GAP_S` are one edit (typing
`result` over `value` is one rename, not six insertions); a change elsewhere, a pause, or an
accepted suggestion starts the next. Each edit remembers where its new text lies in the latest
text, so filters can tell a suggestion that would rewrite what the user just wrote. Bounded:
`MAX_EDITS` per document. Event-loop thread only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from smallcode_lsp.nextedit.text import Change, diff, overlaps, shift_span

MAX_EDITS = 8
GROUP_GAP_S = 2.0
STRUCTURAL_CHARS = 80  # a change this big (a paste, a replaced buffer) is an edit of its own


@dataclass
class UserEdit:
    """One user-level edit: `change` applied to `before` (the text just before it)."""

    before: str
    change: Change
    time: float  # of its last keystroke
    accepted: bool = False  # a next edit the user accepted, not typed
    # Where `change.new` lies in the latest text; None once a later change overwrote part of it.
    span: tuple[int, int] | None = None


class EditHistory:
    def __init__(self, text: str) -> None:
        self.text = text
        self._edits: deque[UserEdit] = deque(maxlen=MAX_EDITS)  # oldest first; last may be open
        self._open = False  # whether the newest edit still takes keystrokes

    def record(self, text: str, now: float, *, accepted: bool = False) -> None:
        """The document is now `text` (after one didChange)."""
        change = diff(self.text, text)
        if change is None:
            return
        newest = self._edits[-1] if self._edits else None
        if newest is not None and newest.span is not None and self._open:
            change = slid_to(change, self.text, newest.span[1])
            deletion_slid_to(newest, self.text, change.start)
        if (
            newest is not None
            and self._open
            and not accepted
            and now - newest.time < GROUP_GAP_S
            and newest.span is not None
            and overlaps(newest.span, (change.start, change.old_end))
            and not (structural(newest.change) or structural(change))
        ):
            self._extend(newest, text, now, change)
        else:
            self._shift_spans(change)
            self._edits.append(
                UserEdit(self.text, change, now, accepted, (change.start, change.new_end))
            )
        self._open = not accepted  # the user's next keystroke never extends an accepted edit
        self.text = text

    def _extend(self, edit: UserEdit, text: str, now: float, change: Change) -> None:
        merged = diff(edit.before, text)
        self._shift_spans(change, skip=edit)
        if merged is None:  # typed back to where it started: the edit is gone
            self._edits.pop()
            return
        assert edit.span is not None
        edit.change, edit.time = merged, now
        edit.span = grown_span(edit.span, change)

    def _shift_spans(self, change: Change, skip: UserEdit | None = None) -> None:
        for edit in self._edits:
            if edit is not skip and edit.span is not None:
                edit.span = shift_span(edit.span, change)

    def newest(self) -> UserEdit | None:
        return self._edits[-1] if self._edits else None

    def recent(self) -> list[UserEdit]:
        """Newest first."""
        return list(reversed(self._edits))

    def typing_span(self, now: float) -> tuple[int, int] | None:
        """The region the user is typing in right now (the open edit, within the gap)."""
        newest = self.newest()
        if newest is None or not self._open or now - newest.time >= GROUP_GAP_S:
            return None
        return newest.span


def grown_span(span: tuple[int, int], change: Change) -> tuple[int, int]:
    """The span after `change` (which touches it) also covers what the change wrote. Not the
    diff's own span: `value` -> `re` trims the shared `e`, yet the user wrote both letters."""
    start, end = span
    end = end + len(change.new) - len(change.old) if end >= change.old_end else change.new_end
    return (min(start, change.start), max(end, change.new_end))


def structural(change: Change) -> bool:
    """A multi-line or paste-sized change: never merged with keystrokes (Continue's rule), so
    a rename typed right after a paste is still read as a rename."""
    return (
        "\n" in change.old
        or "\n" in change.new
        or max(len(change.old), len(change.new)) > STRUCTURAL_CHARS
    )


def slid_to(change: Change, before: str, at: int) -> Change:
    """An insertion the diff placed to the right of `at` slid back left to touch it when the
    text allows (typing the `s` of `cls` over `cl|s`: the diff says after the old `s`)."""
    start, new = change.start, change.new
    if change.old or not new:
        return change
    while start > at and before[start - 1] == new[-1]:
        start -= 1
        new = before[start] + new[:-1]
    return Change(start, "", new) if start == at else change


def deletion_slid_to(edit: UserEdit, text: str, at: int) -> None:
    """A deletion (the newest edit; `text` is after it) that the diff placed to the right of
    `at`, slid back left to start there when the text allows: selecting `./name` in `"./name."`
    and deleting it, the diff says `/name.` went; the first key typed over the selection lands
    before that, where the selection began."""
    change, span = edit.change, edit.span
    if change.new or not change.old or span is None or span != (change.start, change.start):
        return
    start, old = span[0], change.old
    while start > at and text[start - 1] == old[-1]:
        start -= 1
        old = text[start] + old[:-1]
    if start == at:
        edit.change, edit.span = Change(start, old, ""), (start, start)
