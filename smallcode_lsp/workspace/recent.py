"""Recently edited / viewed code: a ring of chunks, llama.vim style.

A new chunk evicts the chunks it is very similar to (same region seen again) and, when the ring
is full, the oldest. Order is insertion order, which keeps the prompt prefix stable until the
user actually goes somewhere new.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

RING_CHUNKS = 16
CHUNK_LINES = 64
EVICT_SIM = 0.9  # as llama.vim: a chunk this similar to the new one is the same region
MIN_CHUNK_CHARS = 16  # a few blank lines are not worth prompt tokens


@dataclass(frozen=True)
class RecentChunk:
    path: str
    text: str
    lines: frozenset[str]


def chunk_similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Dice coefficient over the sets of stripped non-empty lines (1.0 = same lines)."""
    sa = {s for ln in a if (s := ln.strip())}
    sb = {s for ln in b if (s := ln.strip())}
    if not sa or not sb:
        return 0.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


class RecentSnippets:
    """Thread-safe ring of recent chunks (~RING_CHUNKS chunks of ~CHUNK_LINES lines)."""

    def __init__(self, max_chunks: int = RING_CHUNKS, chunk_lines: int = CHUNK_LINES) -> None:
        self.max_chunks = max_chunks
        self.chunk_lines = chunk_lines
        self._chunks: list[RecentChunk] = []
        self._lock = threading.Lock()

    def add(self, path: str, text_around_cursor: str) -> bool:
        """Remember the text around a cursor/edit (cut to chunk_lines); False when not added."""
        lines = text_around_cursor.splitlines()
        if len(lines) > self.chunk_lines:
            # Keep the middle: the cursor is usually in the middle of what the caller sent.
            start = (len(lines) - self.chunk_lines) // 2
            lines = lines[start : start + self.chunk_lines]
        text = "\n".join(lines).strip("\n")
        if len(text.strip()) < MIN_CHUNK_CHARS:
            return False
        chunk = RecentChunk(path, text + "\n", frozenset(s for ln in lines if (s := ln.strip())))
        with self._lock:
            if any(c.path == path and c.text == chunk.text for c in self._chunks):
                return False  # already there: leave the order alone (stable prompt prefix)
            sim = chunk_similarity
            self._chunks = [c for c in self._chunks if sim(c.lines, chunk.lines) <= EVICT_SIM]
            self._chunks.append(chunk)
            del self._chunks[: max(0, len(self._chunks) - self.max_chunks)]
        return True

    def add_around(self, path: str, text: str, offset: int) -> bool:
        """Convenience: add the chunk_lines lines centred on str offset `offset` of `text`."""
        row = text.count("\n", 0, offset)
        lines = text.splitlines()
        half = self.chunk_lines // 2
        return self.add(path, "\n".join(lines[max(0, row - half) : row + half]))

    def chunks(self) -> list[RecentChunk]:
        """Oldest first."""
        with self._lock:
            return list(self._chunks)

    def remove_path(self, path: str) -> None:
        with self._lock:
            self._chunks = [c for c in self._chunks if c.path != path]

    def __len__(self) -> int:
        with self._lock:
            return len(self._chunks)
