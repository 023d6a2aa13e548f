"""When completion work runs: one request per document, newest first, deadlines from the
typing cadence, cancellation. Event loop only; the engine is reached through futures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.engine.base import Engine, EngineJob, NoModel
from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.types import Completion, CompletionRequest, Trigger

Clock = Callable[[], float]  # time.perf_counter() seconds
# What a cancelled request had made when it stopped (the model's first tokens at that spot).
Keep = Callable[[list[Completion]], None]


@dataclass
class _Running:
    token: CancelToken
    future: Future[list[Completion]]
    keep: Keep | None


class Scheduler:
    """Runs user requests on the engine: a newer request for a document cancels the older
    one, `$/cancelRequest` stops the engine before its next token.

    A cancelled request's answer is stale for its own keystroke, not for the next: the tokens
    it made are the model's guess at that spot, and the key that cancelled it often types
    along them. They go to `keep` (type-ahead) once the engine stops; `settled` lets the next
    request wait for that instead of asking the model again for what it just made.
    """

    def __init__(
        self, engine: Engine, cadence: TypingCadence, clock: Clock = time.perf_counter
    ) -> None:
        self._engine = engine
        self._cadence = cadence
        self._clock = clock
        self._running: dict[str, _Running] = {}
        self._settling: dict[str, asyncio.Future[None]] = {}
        self.cancelled = 0

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def with_deadline(self, request: CompletionRequest, budget_ms: float) -> CompletionRequest:
        """An Automatic request gets an answer deadline: `budget_ms` from now, shrunk to a
        share of the keystroke interval while the user types in a burst (0: no deadline)."""
        if request.trigger is not Trigger.AUTOMATIC or budget_ms <= 0:
            return request
        uri = request.document.uri
        received = self._clock()
        self._cadence.note(uri, received)
        shrunk_ms = self._cadence.budget_ms(uri, budget_ms)
        opening_ms = self._cadence.opening_budget_ms(uri, budget_ms)
        # In a burst an answer must land before the next key (a fragment that type-ahead and
        # prefetch extend); otherwise it may finish its line.
        return replace(
            request,
            deadline=received + shrunk_ms / 1000,
            finish_line=shrunk_ms >= budget_ms,
            warm_deadline=None if opening_ms is None else received + opening_ms / 1000,
        )

    def use_engine(self, engine: Engine) -> None:
        """Run later jobs on `engine` (the settings chose another one)."""
        self._engine = engine

    def cancel_document(self, uri: str) -> None:
        """The document changed, or a newer request came: what runs for it is stale now."""
        running = self._running.pop(uri, None)
        if running is not None:
            self._stop(uri, running)

    def _stop(self, uri: str, running: _Running) -> None:
        running.token.cancel()
        if running.keep is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # closing, off the loop: nothing will ask for it
            return
        settled: asyncio.Future[None] = loop.create_future()
        self._settling[uri] = settled
        keep = running.keep

        def on_loop(ended: Future[list[Completion]]) -> None:
            if not ended.cancelled() and ended.exception() is None:
                made = [c for c in ended.result() if c.text]
                if made:
                    keep(made)
            if not settled.done():
                settled.set_result(None)
            if self._settling.get(uri) is settled:
                del self._settling[uri]

        running.future.add_done_callback(lambda ended: loop.call_soon_threadsafe(on_loop, ended))

    async def settled(self, uri: str, timeout_s: float) -> bool:
        """Wait, at most `timeout_s`, for a cancelled request's answer to reach its `keep`.
        False when nothing was settling."""
        settling = self._settling.get(uri)
        if settling is None:
            return False
        await asyncio.wait([settling], timeout=timeout_s)
        return True

    async def run(
        self, uri: str, job: EngineJob, keep: Keep | None = None
    ) -> list[Completion] | None:
        """`job`'s completions; None when it was cancelled or no model is loaded. `keep`: where
        what it made goes if it is cancelled (type-ahead)."""
        self.cancel_document(uri)
        token = CancelToken()
        future = self._engine.complete(job, token)
        running = _Running(token, future, keep)
        self._running[uri] = running
        try:
            results = await asyncio.wrap_future(future)
        except asyncio.CancelledError:  # $/cancelRequest: stop the engine before its next token
            if self._running.get(uri) is running:
                del self._running[uri]
                self._stop(uri, running)
            else:
                token.cancel()
            self.cancelled += 1
            raise
        except (Cancelled, NoModel):
            return None
        finally:
            if self._running.get(uri) is running:
                del self._running[uri]
        if token.cancelled:
            self.cancelled += 1
            return None
        return results

    def run_background(
        self, job: EngineJob
    ) -> tuple[asyncio.Future[list[Completion]], CancelToken]:
        """Preemptible work (prefetch): it yields to any user request. The future resolves on
        the event loop."""
        token = CancelToken()
        future = asyncio.wrap_future(self._engine.complete(job, token, background=True))
        return future, token

    def close(self) -> None:
        for running in self._running.values():
            running.token.cancel()
        self._running.clear()
