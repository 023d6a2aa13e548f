"""Prompt-lookup drafts: code repeats itself, so the tokens that followed the last n-gram
elsewhere in the prompt (or in what was generated) are a cheap guess of what comes next.

Tokens are kept packed as 4-byte integers and an n-gram is found with `bytes.rfind` (C speed):
no per-request index to build over a ~2k-token prompt (that took ~3 ms of Python per request,
more than the rest of the request's Python work together)."""

from __future__ import annotations

from array import array

NGRAM_SIZES = (3, 2)  # try the longer match first: fewer, better drafts
_WIDTH = array("i").itemsize


class NgramIndex:
    """The tokens so far, searchable for the most recent earlier occurrence of an n-gram."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens: list[int] = list(tokens)
        self._packed = bytearray(array("i", self.tokens).tobytes())

    def append(self, token: int) -> None:
        self.tokens.append(token)
        self._packed += array("i", (token,)).tobytes()

    def _find_before(self, needle: bytes, limit: int) -> int:
        """Token index of the last occurrence of `needle` ending at or before token `limit`."""
        end = limit * _WIDTH
        while (at := self._packed.rfind(needle, 0, end)) >= 0:
            if at % _WIDTH == 0:
                return at // _WIDTH
            end = at + len(needle) - 1  # a match straddling two tokens: look further back
        return -1

    def draft(self, max_tokens: int) -> list[int]:
        """Tokens that followed the most recent earlier occurrence of the current tail n-gram."""
        end = len(self.tokens)
        for n in NGRAM_SIZES:
            if end <= n:
                continue
            needle = bytes(self._packed[(end - n) * _WIDTH :])
            at = self._find_before(needle, end - 1)  # an earlier one: it ends before the tail
            if at >= 0:
                start = at + n
                return self.tokens[start : min(start + max_tokens, end)]
        return []


class CachedAnswer:
    """What the KV cache held after this very prompt: the answer an earlier job gave here (a
    warm-up at the resting cursor, a request the next key cancelled, a prefetch). Greedy
    decoding from the same prompt gives it again, so it is drafted whole, token for token, as
    long as the new answer follows it; once they part, it is never drafted again."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = tokens
        self._at = 0  # answer tokens the new answer has repeated so far
        self._parted = not tokens

    def append(self, token: int) -> None:
        if self._parted:
            return
        if self._at < len(self.tokens) and self.tokens[self._at] == token:
            self._at += 1
        else:
            self._parted = True

    def draft(self, max_tokens: int) -> list[int]:
        if self._parted:
            return []
        return self.tokens[self._at : self._at + max_tokens]
