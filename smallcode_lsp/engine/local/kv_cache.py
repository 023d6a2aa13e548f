"""The KV cache of one sequence of a llama.cpp context, and the tokens it holds.

llama.cpp keeps keys and values per position; Python must know which token sits at each
position to reuse them for the next prompt. Every change to the C-side memory goes through
this class, so the token list can never drift from what the cache holds (mlx-lm's KVCache
keeps offset, trim and reuse together the same way). Engine thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

import llama_cpp

from smallcode_lsp.engine.tokens import common_prefix_length


class KVCache:
    """Tokens whose K/V sit in sequence `seq` of `memory`, position i at index i."""

    def __init__(self, memory: llama_cpp.llama_memory_t, seq: int = 0) -> None:
        self._memory = memory
        self.seq = seq
        self._tokens: list[int] = []
        self.last_used = 0  # the engine's use counter when a job last decoded here

    def __len__(self) -> int:
        return len(self._tokens)

    @property
    def tokens(self) -> Sequence[int]:
        """A read-only view (a copy would cost a list per keystroke)."""
        return self._tokens

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading `tokens` are cached already."""
        return common_prefix_length(self._tokens, tokens)

    def appended(self, tokens: Sequence[int]) -> None:
        """`tokens` were just decoded at the end of the cache."""
        self._tokens.extend(tokens)

    def restored(self, tokens: Sequence[int]) -> None:
        """The sequence's state was just copied back in (parking.py): it holds `tokens`."""
        self._tokens[:] = tokens

    def truncate(self, keep: int) -> int:
        """Drop everything from position `keep` on; returns what is kept (0 if llama.cpp
        could not cut the sequence there and the cache was cleared instead)."""
        if keep >= len(self._tokens):
            return len(self._tokens)
        if not llama_cpp.llama_memory_seq_rm(self._memory, self.seq, keep, -1):
            self.clear()
            return 0
        del self._tokens[keep:]
        return keep

    def clear(self) -> None:
        llama_cpp.llama_memory_seq_rm(self._memory, self.seq, -1, -1)
        self._tokens.clear()

    def reuse(self, tokens: Sequence[int], shift_chunk: int) -> tuple[int, int]:
        """Keep the cached prefix of `tokens` and, with `shift_chunk` > 0, shift cached chunks
        that reappear after deleted text into place. Everything else is dropped.

        Returns (tokens now cached in place, tokens shifted). The last prompt token is never
        counted as cached: it must be decoded again for its logits.
        """
        keep = self.shared_prefix(tokens)
        shifted = 0
        if shift_chunk > 0 and keep < len(self._tokens):
            keep, shifted = self._shift(tokens, keep, shift_chunk)
        if keep == len(tokens):
            keep -= 1
        return self.truncate(keep), shifted

    def _shift(self, tokens: Sequence[int], n_past: int, min_chunk: int) -> tuple[int, int]:
        """llama-server's --cache-reuse: drop cached text the prompt no longer has and shift
        the matching chunks after it back into place (RoPE shift), so they are not decoded
        again (`shift_plan`)."""
        if not llama_cpp.llama_memory_can_shift(self._memory):
            return n_past, 0
        moves = shift_plan(self._tokens, tokens, n_past, min_chunk)
        for cached_at, prompt_at, length in moves:
            llama_cpp.llama_memory_seq_rm(self._memory, self.seq, prompt_at, cached_at)
            llama_cpp.llama_memory_seq_add(
                self._memory, self.seq, cached_at, cached_at + length, prompt_at - cached_at
            )
        if not moves:
            return n_past, 0
        _, prompt_at, length = moves[-1]
        n_past = prompt_at + length
        # Cells past n_past are still at their old positions: drop them.
        llama_cpp.llama_memory_seq_rm(self._memory, self.seq, n_past, -1)
        self._tokens[:] = tokens[:n_past]
        return n_past, sum(length for _, _, length in moves)


def shift_plan(
    cached: Sequence[int], tokens: Sequence[int], n_past: int, min_chunk: int
) -> list[tuple[int, int, int]]:
    """The chunks of `cached` after its first `n_past` tokens (the common prefix) that
    `tokens` has again after deleted text, as (cached position, prompt position, length),
    each at least `min_chunk` long. Positions in a sequence must stay consecutive, so only
    deletions are bridged: text inserted before a chunk ends the reuse there."""
    moves: list[tuple[int, int, int]] = []
    head_c = head_p = n_past
    while head_c < len(cached) and head_p < len(tokens):
        n_match = 0
        while (
            head_c + n_match < len(cached)
            and head_p + n_match < len(tokens)
            and cached[head_c + n_match] == tokens[head_p + n_match]
        ):
            n_match += 1
        if n_match >= min_chunk:
            moves.append((head_c, head_p, n_match))
            head_p += n_match
            head_c += n_match
        else:
            head_c += 1
    return moves
