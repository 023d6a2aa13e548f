"""Whether the user's instances of a change are evidence for one more site.

A pattern that matches a site is not yet a reason to offer it: the instances the user made (the
newest edit, and the earlier ones the same pattern explains) say where the change belongs. They
are read once per pattern (`read`); then a site must look like them (`like`: the same tokens on
the sides they agree on, inside a string only if they were) and lie ahead of the user (`ahead`:
not one they passed over, not far behind the cursor). A change to text the file already has
needs more instances before any site is offered (`enough`). Pure functions of texts and edits.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from smallcode_lsp.nextedit.history import UserEdit
from smallcode_lsp.nextedit.lexer import is_word_char, lex
from smallcode_lsp.nextedit.propagate import Pattern, Site, neighbours, whole_tokens

# A change that brings in text the file already has (`Dict` -> `MutableMapping`, `int` ->
# `size_t`, `return NULL` -> `goto error`) swaps one existing thing for another, a choice made
# site by site: it is repeated after this many instances, not after two (or one, for a
# definition).
SUBSTITUTION_INSTANCES = 3
# How far above the cursor a site may be: about a screen. The next edit is ahead of the user;
# Tab jumping back over a page the user has already worked through is not one they expect.
BACK_LINES = 30


@dataclass(frozen=True)
class Instances:
    """What the user's instances of one pattern agree on (where the first of them began)."""

    sides: dict[int, str]  # the token on a side (0: left, 1: right) that every instance had
    in_string: bool  # some instance lies inside a string literal
    in_code: bool  # some instance does not
    began: int | None  # the start, in the current text, of the topmost instance


def read(instances: list[UserEdit]) -> Instances:
    """`instances`: the newest edit first. One instance (a definition renamed) says nothing
    about its uses' sides: `def value(` is not how the name is used."""
    spans = [_token_span(e) for e in instances]
    sides = [neighbours(e.before, *span) for e, span in zip(instances, spans, strict=True)]
    strings = [_in_string(e.before, *span) for e, span in zip(instances, spans, strict=True)]
    several = len(instances) >= 2
    agreed = {
        side: sides[0][side]
        for side in (0, 1)
        if several and all(s[side] == sides[0][side] for s in sides)
    }
    starts = [e.span[0] for e in instances if e.span is not None]
    return Instances(
        sides=agreed,
        in_string=any(strings),
        in_code=not all(strings),
        began=min(starts, default=None),
    )


def enough(pattern: Pattern, instances: list[UserEdit]) -> bool:
    """Whether the instances (the newest first; the pattern explains each) are enough to repeat
    `pattern` at all. A replacement by text the file already had is a substitution: it needs
    SUBSTITUTION_INSTANCES. An insertion or a deletion brings nothing in that was there."""
    if pattern.kind not in ("rename", "rewrite") or len(instances) >= SUBSTITUTION_INSTANCES:
        return True
    return not _brings_existing_text(instances)


def like(site: Site, text: str, seen: Instances) -> bool:
    """Whether `site` looks like the user's instances: the tokens on the sides they agree on
    (`t.Dict[` twice: not the `Dict` in `from typing import Dict`), inside a string literal
    only if one of theirs was, and in code only if one of theirs was."""
    if seen.sides:
        here = neighbours(text, site.start, site.end)
        if any(here[side] != token for side, token in seen.sides.items()):
            return False
    return seen.in_string if _in_string(text, site.start, site.end) else seen.in_code


def ahead(site: Site, text: str, cursor: int, seen: Instances) -> bool:
    """Whether `site` lies ahead of the user: below the cursor, or above it within BACK_LINES
    and not between the topmost instance and the cursor (a site the user passed over while
    making the change is one they chose to leave)."""
    if site.start >= cursor:
        return True
    if seen.began is not None and seen.began < site.start:
        return False
    return text.count("\n", site.start, cursor) <= BACK_LINES


def _token_span(edit: UserEdit) -> tuple[int, int]:
    """The span of `edit.before` the edit changed, widened to whole tokens."""
    change = whole_tokens(edit.before, edit.change)
    return change.start, change.old_end


def _brings_existing_text(instances: list[UserEdit]) -> bool:
    """Whether the new text of the newest instance (whole tokens) was in the text before the
    user's first instance (the oldest: later ones see what the user wrote), token for token."""
    tokens = lex(whole_tokens(instances[0].before, instances[0].change).new)
    if not tokens:
        return False
    regex = re.escape(tokens[0].text)
    for left, right in itertools.pairwise(tokens):
        words = is_word_char(left.text[-1]) and is_word_char(right.text[0])
        regex += (r"\s+" if words else r"\s*") + re.escape(right.text)
    if is_word_char(tokens[0].text[0]):
        regex = r"(?<![\w$])" + regex
    if is_word_char(tokens[-1].text[-1]):
        regex += r"(?![\w$])"
    return re.search(regex, instances[-1].before) is not None


def _in_string(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies inside a string literal on its line (not one that is the
    whole span: a changed string is a token like any other)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    for token in lex(text[line_start : len(text) if line_end < 0 else line_end]):
        if token.start + line_start >= end:
            break
        if token.kind == "string" and token.start + line_start < start < token.end + line_start:
            return end < token.end + line_start
    return False
