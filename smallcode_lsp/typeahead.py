"""Type-ahead reuse: answer from a suggestion already made when the user types along it.

When the user types characters that match the start of a suggestion we produced (the one on
screen, or an older one after backspacing), the rest of that suggestion is still the model's
answer for the new cursor: no model work at all. Entries keep only the text near the cursor
(a tail of the prefix and a head of the suffix), so memory stays bounded for huge files.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

PREFIX_TAIL = 512  # chars of prefix compared (llama.vim compares 128; code repeats more)
SUFFIX_HEAD = 256
MAX_ENTRIES = 128


@dataclass(frozen=True)
class _Entry:
    prefix_length: int
    prefix_tail: str
    suffix_head: str
    text: str
    complete: bool  # the model ended the text itself (not cut short by a deadline or limit)


@dataclass(frozen=True)
class Hit:
    rest: str  # the part of the suggestion not typed yet
    complete: bool  # False: the suggestion was cut short, the model has more to say


class TypeAheadCache:
    """Per-document LRU of suggestions keyed by where they were made."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, str], _Entry] = OrderedDict()

    def add(self, prefix: str, suffix: str, text: str, complete: bool = True) -> None:
        if not text.strip():
            return
        tail = prefix[-PREFIX_TAIL:]
        entry = _Entry(len(prefix), tail, suffix[:SUFFIX_HEAD], text, complete)
        key = (len(prefix), tail)
        self._entries.pop(key, None)
        self._entries[key] = entry
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def lookup(self, prefix: str, suffix: str) -> str | None:
        """The rest of a cached suggestion that `prefix` has typed part of, if any."""
        hit = self.find(prefix, suffix)
        return hit.rest if hit else None

    def find(self, prefix: str, suffix: str) -> Hit | None:
        """Like `lookup`, also telling whether the cached suggestion was complete."""
        suffix_head = suffix[:SUFFIX_HEAD]
        for key in reversed(self._entries):
            entry = self._entries[key]
            typed_length = len(prefix) - entry.prefix_length
            if not 0 <= typed_length < len(entry.text):
                continue
            start = entry.prefix_length - len(entry.prefix_tail)
            if prefix[start : entry.prefix_length] != entry.prefix_tail:
                continue
            typed = prefix[entry.prefix_length :]
            if not entry.text.startswith(typed) or suffix_head != entry.suffix_head:
                continue
            rest = entry.text[typed_length:]
            if rest.strip():
                self._entries.move_to_end(key)
                return Hit(rest, entry.complete)
        return None

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
