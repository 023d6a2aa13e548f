"""Prompt-lookup drafts: code repeats itself, so the tokens that followed the last n-gram
elsewhere in the prompt (or in what was generated) are a cheap guess of what comes next."""

from __future__ import annotations

NGRAM_SIZES = (3, 2)  # try the longer match first: fewer, better drafts


class NgramIndex:
    """Last position of every n-gram seen, updated as tokens are appended."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens: list[int] = []
        self._last: dict[tuple[int, ...], int] = {}
        self._previous: dict[tuple[int, ...], int] = {}
        for token in tokens:
            self.append(token)

    def append(self, token: int) -> None:
        self.tokens.append(token)
        end = len(self.tokens)
        for n in NGRAM_SIZES:
            if end >= n:
                key = tuple(self.tokens[end - n : end])
                if key in self._last:
                    self._previous[key] = self._last[key]
                self._last[key] = end

    def draft(self, max_tokens: int) -> list[int]:
        """Tokens that followed the most recent earlier occurrence of the current tail n-gram."""
        end = len(self.tokens)
        for n in NGRAM_SIZES:
            if end < n:
                continue
            key = tuple(self.tokens[end - n : end])
            # _last[key] is the current tail itself; the earlier occurrence is in _previous.
            start = self._previous.get(key) if self._last.get(key) == end else self._last.get(key)
            if start is not None and start < end:
                return self.tokens[start : min(start + max_tokens, end)]
        return []
