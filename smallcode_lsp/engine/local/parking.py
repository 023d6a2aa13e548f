"""KV sequences parked in RAM: the prompts of spots the user left, brought back in milliseconds.

The context holds two live KV sequences (kv_cache.py): the prompt answering the user and one
grown or warmed in the background. When a job is about to overwrite most of a live sequence
(a jump to another spot or file), its state is first copied out with
`llama_state_seq_get_data`, keyed by its tokens. When a later prompt shares more with a parked
state than with any live sequence (the user came back), the state is copied into the sequence
the job uses (`llama_state_seq_set_data`) instead of being evaluated again. Bounded by a byte
budget (`warmCacheMb`), the least recently used out first. Engine thread only.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import llama_cpp
import numpy as np

from smallcode_lsp.engine.local.kv_cache import KVCache

log = logging.getLogger(__name__)

PARK_MIN_TOKENS = 64  # a sequence worth parking: a prompt, not a probe's few tokens
RESTORE_MIN_GAIN = 32  # restore only when it saves at least this many tokens of prefill


@dataclass
class Parked:
    tokens: tuple[int, ...]
    data: ctypes.Array[Any]  # the sequence state as llama.cpp wrote it
    used: int  # the lot's use counter when parked or restored last
    array: np.ndarray[Any, np.dtype[np.int64]] = field(init=False)  # for fast prefix compares

    def __post_init__(self) -> None:
        self.array = np.asarray(self.tokens, dtype=np.int64)

    def shared_prefix(self, query: np.ndarray[Any, np.dtype[np.int64]]) -> int:
        """How many leading tokens of `query` this state holds (compared in C: sizing asks
        this for every prompt size it tries, on every keystroke)."""
        n = min(len(self.array), len(query))
        differ = np.flatnonzero(self.array[:n] != query[:n])
        return int(differ[0]) if len(differ) else n

    @property
    def size(self) -> int:
        return len(self.data)


class ParkingLot:
    """Parked sequence states of one llama.cpp context, within `budget` bytes."""

    def __init__(self, ctx: llama_cpp.llama_context_p, budget: int) -> None:
        self._ctx = ctx
        self.budget = budget
        self._parked: list[Parked] = []
        self._uses = 0
        self.parked = 0  # states copied out

    @property
    def bytes(self) -> int:
        return sum(p.size for p in self._parked)

    def __len__(self) -> int:
        return len(self._parked)

    def best(self, tokens: Sequence[int]) -> tuple[Parked | None, int]:
        """The parked state sharing the longest prefix with `tokens`, and that length."""
        found, most = None, 0
        if not self._parked:
            return found, most
        query = np.asarray(tokens, dtype=np.int64)
        for parked in self._parked:
            shared = parked.shared_prefix(query)
            if shared > most:
                found, most = parked, shared
        return found, most

    def park(self, cache: KVCache) -> None:
        """Copy `cache`'s state out before a job overwrites it (a no-op under the minimum, or
        when an equal or longer version of the same prompt is parked already)."""
        if self.budget <= 0 or len(cache) < PARK_MIN_TOKENS:
            return
        tokens = tuple(cache.tokens)
        for parked in self._parked:
            if parked.tokens[: len(tokens)] == tokens:
                self._touch(parked)
                return  # the same prompt (or more of it) is parked already
        size = llama_cpp.llama_state_seq_get_size(self._ctx, cache.seq)
        if size <= 0 or size > self.budget:
            return
        data = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_seq_get_data(self._ctx, data, size, cache.seq) != size:
            return
        # A parked prefix of this prompt is worth less than this one: replace it.
        self._parked = [p for p in self._parked if tokens[: len(p.tokens)] != p.tokens]
        self._parked.append(Parked(tokens, data, 0))
        self._touch(self._parked[-1])
        self.parked += 1
        while self.bytes > self.budget:
            self._parked.remove(min(self._parked, key=lambda p: p.used))

    def restore(self, parked: Parked, cache: KVCache) -> bool:
        """Make `cache` hold `parked`'s tokens from its saved state; False if llama.cpp
        refused it (the cache is left empty then)."""
        began = time.perf_counter()
        cache.clear()
        if llama_cpp.llama_state_seq_set_data(self._ctx, parked.data, parked.size, cache.seq) == 0:
            cache.clear()
            return False
        cache.restored(parked.tokens)
        self._touch(parked)
        took = (time.perf_counter() - began) * 1000
        log.info("restored a parked prompt: %d tokens in %.1f ms", len(parked.tokens), took)
        return True

    def clear(self) -> None:
        self._parked.clear()

    def _touch(self, parked: Parked) -> None:
        self._uses += 1
        parked.used = self._uses
