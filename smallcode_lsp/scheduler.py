"""When completion work runs: one request per document, newest first, deadlines from the
typing cadence, cancellation. Event loop only; the engine is reached through futures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.engine.base import Engine, EngineJob, NoModel
from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.types import Completion, CompletionRequest, Trigger

Clock = Callable[[], float]  # time.perf_counter() seconds


class Scheduler:
    """Runs user requests on the engine: a newer request for a document cancels the older
    one, `$/cancelRequest` stops the engine before its next token."""

    def __init__(
        self, engine: Engine, cadence: TypingCadence, clock: Clock = time.perf_counter
    ) -> None:
        self._engine = engine
        self._cadence = cadence
        self._clock = clock
        self._running: dict[str, CancelToken] = {}
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
        # In a burst an answer must land before the next key (a fragment that type-ahead and
        # prefetch extend); otherwise it may finish its line.
        return replace(
            request, deadline=received + shrunk_ms / 1000, finish_line=shrunk_ms >= budget_ms
        )

    def use_engine(self, engine: Engine) -> None:
        """Run later jobs on `engine` (the settings chose another one)."""
        self._engine = engine

    def cancel_document(self, uri: str) -> None:
        """The document changed, or a newer request came: what runs for it is stale now."""
        token = self._running.pop(uri, None)
        if token is not None:
            token.cancel()

    async def run(self, uri: str, job: EngineJob) -> list[Completion] | None:
        """`job`'s completions; None when it was cancelled or no model is loaded."""
        self.cancel_document(uri)
        token = CancelToken()
        self._running[uri] = token
        future = self._engine.complete(job, token)
        try:
            results = await asyncio.wrap_future(future)
        except asyncio.CancelledError:  # $/cancelRequest: stop the engine before its next token
            token.cancel()
            self.cancelled += 1
            raise
        except (Cancelled, NoModel):
            return None
        finally:
            if self._running.get(uri) is token:
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
        for token in self._running.values():
            token.cancel()
        self._running.clear()
