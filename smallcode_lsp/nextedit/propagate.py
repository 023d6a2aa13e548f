"""Repeated-edit propagation: the transformation an edit applied, and its next unapplied site.

An edit is first widened to whole tokens (`count` -> `counter`, not `` -> `er`), then read as
a token pattern: its old tokens (a rename, a rewrite, a deletion), or, for an insertion, the
tokens on either side of it. Tokens the edit kept (`k` in `x.get(k)` -> `x[k]`) may become
holes that match any single name, so the same rewrite applies to `y.get(j)`. Patterns go from
exact to general; each must keep enough literal text to be specific (a lone `,` or `1` is
everywhere). Sites are searched with one regex over the whole text (C speed on big files).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from smallcode_lsp.nextedit.lexer import Token, is_word_char, lex
from smallcode_lsp.nextedit.text import Change

MAX_CONTEXT_BEFORE = 4  # tokens on the left of an insertion that may anchor it
CONTEXT_AFTER = 1
HOLE = {
    "word": r"(?:[^\W\d][\w$]*|\$[\w$]*)",
    "number": r"\d[\w.]*",
    "string": r"(?:\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')",
}


@dataclass(frozen=True)
class Pattern:
    """Where the edit applies (`regex`, its group `site` is replaced) and what goes there."""

    kind: str  # rename | rewrite | delete | insert
    regex: re.Pattern[str]
    template: tuple[str | int, ...]  # literal text, or the number of a hole to copy from the site
    general: bool  # has holes
    local: bool = False  # only within the edit's function (a one-letter name)


@dataclass(frozen=True)
class Site:
    """Replace text[start:end] with `text`."""

    start: int
    end: int
    text: str
    kind: str = ""  # the pattern's kind (rename, rewrite, ...), for logs and benchmarks


def whole_tokens(before: str, change: Change) -> Change:
    """`change` widened so that it starts and ends on token boundaries of both versions."""
    start, end, new = change.start, change.old_end, change.new
    while start > 0 and is_word_char(before[start - 1]):
        first_old = before[start] if start < len(before) else ""
        first_new = new[0] if new else (before[end] if end < len(before) else "")
        if not (is_word_char(first_old) or is_word_char(first_new)):
            break
        start -= 1
        new = before[start] + new
    while end < len(before) and is_word_char(before[end]):
        last_old = before[end - 1] if end > 0 else ""
        last_new = new[-1] if new else (before[start - 1] if start > 0 else "")
        if not (is_word_char(last_old) or is_word_char(last_new)):
            break
        new += before[end]
        end += 1
    return Change(start, before[start:end], new)


def named(tokens: list[Token]) -> bool:
    """Has a real name (a word of two letters or more) or a string: `( a )` names no place."""
    return any(t.kind == "string" or (t.kind == "word" and len(t.text) >= 2) for t in tokens)


def specific(tokens: list[Token]) -> bool:
    """Enough literal text to name a place: a real name, or a few tokens with a word."""
    return named(tokens) or (len(tokens) >= 3 and any(t.kind == "word" for t in tokens))


def _joint(left: Token, right: Token) -> str:
    # Two words need whitespace between them; anything else may have some or none.
    return (
        r"\s+" if left.kind in ("word", "number") and right.kind in ("word", "number") else r"\s*"
    )


def _tokens_regex(tokens: list[Token], holes: dict[int, int]) -> str:
    """A regex for `tokens`; `holes` maps token index -> hole number (a named group)."""
    parts: list[str] = []
    seen: set[int] = set()
    for i, token in enumerate(tokens):
        if i:
            parts.append(_joint(tokens[i - 1], token))
        hole = holes.get(i)
        if hole is None:
            parts.append(re.escape(token.text))
        elif hole in seen:
            parts.append(f"(?P=h{hole})")
        else:
            seen.add(hole)
            parts.append(f"(?P<h{hole}>{HOLE[token.kind]})")
    return "".join(parts)


def _bounded(regex: str, first: Token | None, last: Token | None) -> str:
    """Keep a pattern that starts or ends with a word from matching inside a longer word.
    The start is checked on each match (`sites`): a leading lookbehind would cost `re` its
    literal-prefix scan, ten times slower on a big file."""
    if last is not None and last.kind in ("word", "number"):
        regex += r"(?![\w$])"
    return regex


def _template(new: str, new_tokens: list[Token], holes: dict[int, int]) -> tuple[str | int, ...]:
    pieces: list[str | int] = []
    at = 0
    for index, hole in sorted(holes.items(), key=lambda item: new_tokens[item[0]].start):
        token = new_tokens[index]
        pieces.extend([new[at : token.start], hole])
        at = token.end
    pieces.append(new[at:])
    return tuple(p for p in pieces if p != "")


def _kept_names(old: list[Token], new: list[Token]) -> list[tuple[int, int]]:
    """(old index, new index) of name tokens the edit kept in place: hole candidates."""
    matcher = difflib.SequenceMatcher(None, [t.text for t in old], [t.text for t in new], False)
    pairs = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            if old[block.a + k].is_name:
                pairs.append((block.a + k, block.b + k))
    return pairs


def _line_tokens(text: str, start: int, end: int) -> list[Token]:
    return lex(text[start:end])


def infer(before: str, change: Change) -> list[Pattern]:
    """Patterns for `change` (made to `before`), most exact first; [] when nothing repeats."""
    change = whole_tokens(before, change)
    if "".join(change.old.split()) == "".join(change.new.split()):
        return []  # whitespace only
    if "\n" in change.old or "\n" in change.new:
        return []  # lines added or joined: structure, not a token change that repeats
    old, new = lex(change.old), lex(change.new)
    if len(old) == 1 and old[0].kind == "word" and len(new) == 1 and new[0].kind == "word":
        # A short name (`w` -> `width`) is renamed where it means the same: its function.
        exact = _bounded(_tokens_regex(old, {}), old[0], old[0])
        pattern = re.compile(f"(?P<site>{exact})")
        return [Pattern("rename", pattern, (change.new,), False, local=not specific(old))]
    if old and specific(old):
        kind = "delete" if not new else ("rename" if len(old) == len(new) == 1 else "rewrite")
        return _replacing(kind, change, old, new)
    return _anchored(before, change, old, new)


def _replacing(kind: str, change: Change, old: list[Token], new: list[Token]) -> list[Pattern]:
    exact = _bounded(_tokens_regex(old, {}), old[0], old[-1])
    patterns = [Pattern(kind, re.compile(f"(?P<site>{exact})"), (change.new,), False)]
    pairs = _kept_names(old, new)
    literal = [t for i, t in enumerate(old) if i not in {a for a, _ in pairs}]
    if pairs and len(literal) >= 2 and specific(literal) and any(t.kind == "word" for t in literal):
        holes_old = {a: n for n, (a, _) in enumerate(pairs)}
        holes_new = {b: n for n, (_, b) in enumerate(pairs)}
        general = _bounded(_tokens_regex(old, holes_old), old[0], old[-1])
        template = _template(change.new, new, holes_new)
        patterns.append(Pattern(kind, re.compile(f"(?P<site>{general})"), template, True))
    return patterns


def _anchored(before: str, change: Change, old: list[Token], new: list[Token]) -> list[Pattern]:
    """An insertion (or a small rewrite) found by the tokens on either side, on its line."""
    line_start = before.rfind("\n", 0, change.start) + 1
    line_end = before.find("\n", change.old_end)
    line_end = len(before) if line_end < 0 else line_end
    on_left = _line_tokens(before, line_start, change.start)
    right = _line_tokens(before, change.old_end, line_end)[:CONTEXT_AFTER]
    # The fewest tokens on the left that name the place, and the one before them: `code>`
    # alone is also in `</code>`, `(with_attribute` in any call of it.
    for width in range(1, MAX_CONTEXT_BEFORE + 1):
        left = on_left[-width:]
        if named(left):
            left = on_left[-width - 1 :]
            break
    else:
        return []
    gap_left = re.escape(before[line_start + left[-1].end : change.start]) if left else ""
    right_at = change.old_end + right[0].start if right else change.old_end
    gap_right = re.escape(before[change.old_end : right_at]) if right else ""
    kind = "insert" if not old else "rewrite"
    patterns = [
        Pattern(
            kind,
            re.compile(_around(left, old, right, gap_left, gap_right, {})),
            (change.new,),
            False,
        )
    ]
    # The names next to the edit may differ from site to site (`foo(a` -> `foo(b`), as long
    # as a name further out still pins the place.
    anchors = left + right
    holes = {i: n for n, i in enumerate(i for i, t in enumerate(anchors) if t.is_name and i)}
    literal = [t for i, t in enumerate(anchors) if i not in holes]
    if holes and named(literal):
        regex = _around(left, old, right, gap_left, gap_right, holes)
        patterns.append(Pattern(kind, re.compile(regex), (change.new,), True))
    return patterns


def _around(
    left: list[Token],
    old: list[Token],
    right: list[Token],
    gap_left: str,
    gap_right: str,
    holes: dict[int, int],
) -> str:
    """Left anchors, the site (old tokens or nothing), right anchors; `holes` index into
    left + right."""
    right_holes = {i - len(left): n for i, n in holes.items() if i >= len(left)}
    return (
        _bounded(_tokens_regex(left, holes), left[0] if left else None, None)
        + gap_left
        + f"(?P<site>{_tokens_regex(old, {}) if old else ''})"
        + gap_right
        + _bounded(_tokens_regex(right, right_holes), None, right[-1] if right else None)
    )


def render(pattern: Pattern, match: re.Match[str]) -> str:
    return "".join(p if isinstance(p, str) else match.group(f"h{p}") for p in pattern.template)


def sites(pattern: Pattern, text: str) -> Iterator[Site]:
    """Every place `pattern` applies in `text` and would change it."""
    for match in pattern.regex.finditer(text):
        if match.start() and is_word_char(text[match.start() - 1]) and is_word_char(match[0][:1]):
            continue  # inside a longer word
        start, end = match.span("site")
        replacement = render(pattern, match)
        if text[start:end] != replacement:
            kind = pattern.kind + ("+holes" if pattern.general else "")
            yield Site(start, end, replacement, kind)


def explains(pattern: Pattern, before: str, change: Change) -> bool:
    """Whether `pattern`, applied to `before`, makes exactly `change` (widened to tokens)."""
    change = whole_tokens(before, change)
    lo = before.rfind("\n", 0, max(0, before.rfind("\n", 0, change.start))) + 1
    hi = before.find("\n", before.find("\n", change.old_end) + 1)
    hi = len(before) if hi < 0 else hi
    for match in pattern.regex.finditer(before, lo, hi):
        if match.span("site") == (change.start, change.old_end):
            return render(pattern, match) == change.new
    return False


def neighbours(text: str, start: int, end: int) -> tuple[str, str]:
    """The token just before `start` and just after `end`, on their lines ("" at a line end)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    left = lex(text[line_start:start])
    right = lex(text[end : len(text) if line_end < 0 else line_end])
    return (left[-1].text if left else "", right[0].text if right else "")


def nearest_first(found: list[Site], cursor: int) -> list[Site]:
    """Below the cursor first (nearest first), then above it (nearest first)."""
    below = [s for s in found if s.start >= cursor]
    above = [s for s in found if s.start < cursor]
    return below + above[::-1]
