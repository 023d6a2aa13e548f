"""Warming the spot the cursor rests on: its prompt is prefilled before the user types there.

A person almost never types the instant the cursor lands: pointing and clicking take ~1.1 s
and the mental preparation before typing ~1.35 s (Card, Moran and Newell's keystroke-level
model). Clients say where the cursor rests (`smallcode/didMoveCursor`, or Copilot's
`textDocument/didFocus` with the last position known there); once it has stayed put for
REST_S, a background job prefills the prompt the first keystroke there will need
(completion.run.warm_prompt), answers there, and the answer goes to the type-ahead cache: a
first key that types along it is answered at once. Any user request preempts it
(engine/worker.py); a move elsewhere replaces it. Event loop only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from smallcode_lsp.engine.base import EngineJob
from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.types import Completion, CompletionRequest

log = logging.getLogger(__name__)

REST_S = 0.15  # the cursor must stay this long: scrolling and held arrow keys pass through


class BackgroundRunner(Protocol):
    def run_background(
        self, job: EngineJob
    ) -> tuple[asyncio.Future[list[Completion]], CancelToken]: ...


Spot = tuple[str, int, int, int]  # uri, offset, text length, text hash


def spot_of(request: CompletionRequest) -> Spot:
    doc = request.document
    return (doc.uri, request.offset, len(doc.text), hash(doc.text))


class Warmer:
    """One warm job at a time, for the newest resting spot."""

    def __init__(
        self,
        scheduler: BackgroundRunner,
        make_job: Callable[[CompletionRequest], EngineJob],
        on_answer: Callable[[CompletionRequest, list[Completion]], None],
        on_start: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_answer`: what the warm job answered at the resting spot (for type-ahead).
        `on_start`: called as a warm job starts (background work for other spots yields)."""
        self._scheduler = scheduler
        self._make_job = make_job
        self._on_answer = on_answer
        self._on_start = on_start
        self._timer: asyncio.TimerHandle | None = None
        self._timer_uri: str | None = None
        self._running: CancelToken | None = None
        self._running_uri: str | None = None
        self._settled: asyncio.Future[None] | None = None  # the running job's answer kept
        self._settled_uri: str | None = None
        self._warmed: Spot | None = None  # the spot warmed last (or being warmed)
        self.enabled = True
        self.started = 0  # warm jobs started (for the status and benchmarks)

    def rest(self, request: CompletionRequest) -> None:
        """The cursor is at `request`'s spot; warm it unless it moves on within REST_S."""
        if not self.enabled:
            return
        spot = spot_of(request)
        if spot == self._warmed:
            return  # warm already (or warming): a focus change back, a repeated notification
        self.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(REST_S, self._start, request, spot)
        self._timer_uri = request.document.uri

    def typed(self, uri: str) -> None:
        """A keystroke or request in `uri`: the user is not resting there. A warm job running
        there stops before its next token; what it answered so far still reaches `on_answer`
        (the key typed is often the start of it: `settled` waits for that)."""
        if self._timer is not None and self._timer_uri == uri:
            self._timer.cancel()
            self._timer = self._timer_uri = None
        if self._running is not None and self._running_uri == uri:
            self._running.cancel()
            self._running = self._running_uri = None

    async def settled(self, uri: str, timeout_s: float) -> bool:
        """Wait, at most `timeout_s`, for a warm job stopped in `uri` to hand over its answer.
        False when none was stopping there."""
        settled = self._settled
        if settled is None or settled.done() or self._settled_uri != uri:
            return False
        await asyncio.wait([settled], timeout=timeout_s)
        return True

    def _start(self, request: CompletionRequest, spot: Spot) -> None:
        self._timer = self._timer_uri = None
        self._on_start()
        future, token = self._scheduler.run_background(self._make_job(request))
        self._running, self._running_uri, self._warmed = token, request.document.uri, spot
        settled = self._settled = asyncio.get_running_loop().create_future()
        self._settled_uri = request.document.uri
        self.started += 1
        log.info("warming the resting spot %s at offset %d", request.document.uri, request.offset)

        def done(ended: asyncio.Future[list[Completion]]) -> None:
            if self._running is token:
                self._running = self._running_uri = None
            try:
                if ended.cancelled():
                    return
                if (error := ended.exception()) is not None:
                    if not isinstance(error, Cancelled):  # a preempted warm-up is no error
                        log.warning("warm-up at the resting spot failed: %r", error)
                    return
                if ended.result():
                    self._on_answer(request, ended.result())
            finally:
                settled.set_result(None)

        future.add_done_callback(done)

    def cancel(self) -> None:
        """Stop waiting and stop the running warm job (its finished chunks stay cached)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_uri = None
        if self._running is not None:
            self._running.cancel()
            self._running = self._running_uri = None
            self._warmed = None

    def configure(self, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            self.cancel()
