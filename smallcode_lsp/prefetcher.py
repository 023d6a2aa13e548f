"""Answers without waiting for the model: type-ahead over suggestions already made, prefetch
of the suggestion the user will want next, and the full prompt grown in the background after
a cold spot was answered from a smaller one. Event loop only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.engine.base import EngineJob
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.scheduler import Clock, Scheduler
from smallcode_lsp.typeahead import TypeAheadCache
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    DocumentSnapshot,
    GenerationStats,
    StopReason,
    Trigger,
)

# Build the engine jobs for background work: a prefetch (gives up rather than replace most of
# a cached prompt) and a prompt grown to full size (evaluates it, generates nothing).
JobFactory = Callable[[CompletionRequest], EngineJob]


def cut_short(completion: Completion) -> bool:
    """The model had more to say: a deadline, the token limit or a preemption stopped it."""
    return completion.stats.stop_reason in (
        StopReason.DEADLINE,
        StopReason.MAX_TOKENS,
        StopReason.CANCELLED,
    )


def next_line_lead(accepted: str, suffix: str) -> str:
    """What the editor inserts on Enter at the end of `accepted`'s line, if that line is done.

    "" when text follows on the same line (the next suggestion continues this line).
    """
    if suffix.split("\n", 1)[0].strip():
        return ""
    line = accepted[accepted.rfind("\n") + 1 :]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if line.rstrip().endswith((":", "{", "(", "[")):
        indent += "\t" if indent.startswith("\t") else "    "
    return "\n" + indent


class Prefetcher:
    """Per-document type-ahead caches and the prefetch that fills them ahead of the user."""

    def __init__(
        self,
        scheduler: Scheduler,
        cadence: TypingCadence,
        make_job: JobFactory,
        make_grow_job: JobFactory,
        clock: Clock,
    ) -> None:
        self._scheduler = scheduler
        self._cadence = cadence
        self._make_job = make_job
        self._make_grow_job = make_grow_job
        self._clock = clock
        self._typeahead: dict[str, TypeAheadCache] = {}
        self._prefetched_keys: dict[str, tuple[int, str, str]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._grow_timers: dict[str, asyncio.TimerHandle] = {}
        self._growing: set[str] = set()  # documents with a grow job queued or running
        self._background: set[CancelToken] = set()  # its jobs queued or running
        self.typeahead = True
        self.prefetch = True
        self.prefetched = 0  # background suggestions computed ahead of the user

    def configure(self, typeahead: bool, prefetch: bool) -> None:
        self.typeahead, self.prefetch = typeahead, prefetch

    # -- type-ahead ----------------------------------------------------------------------------

    def lookup(self, request: CompletionRequest) -> Completion | None:
        """The rest of a suggestion the user is typing along, if any (Automatic only: an
        explicit request asks for fresh alternatives)."""
        if not self.typeahead or request.trigger is Trigger.INVOKED:
            return None
        cache = self._typeahead.get(request.document.uri)
        hit = cache.find(request.prefix, request.suffix) if cache else None
        if hit is None:
            return None
        stop = StopReason.EOG if hit.complete else StopReason.DEADLINE
        return Completion(hit.rest, GenerationStats(from_cache=True, stop_reason=stop))

    def remember(self, request: CompletionRequest, completions: list[Completion]) -> None:
        cache = self._typeahead.setdefault(request.document.uri, TypeAheadCache())
        for completion in completions:
            cache.add(request.prefix, request.suffix, completion.text, not cut_short(completion))

    # -- prefetch ------------------------------------------------------------------------------

    def schedule(self, request: CompletionRequest, shown: Completion, defer: bool = True) -> None:
        """Prefetch what follows `shown` now, or, while the user types in a burst, once they
        pause. Not deferred after a type-ahead hit: typing along a suggestion asks nothing of
        the engine, so the continuation runs undisturbed while the user types on."""
        uri = request.document.uri
        self.cancel_timer(uri)
        finished = not cut_short(shown)
        delay = self._cadence.pause_delay(uri, self._clock()) if defer else 0.0
        if delay <= 0:
            self._prefetch(request, shown.text, finished)
            return
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(delay, self._prefetch, request, shown.text, finished)

    def schedule_growth(self, request: CompletionRequest) -> None:
        """The answer came from a prompt smaller than the full one (a cold spot): once the user
        pauses, evaluate the full prompt in the background, so the requests that follow here
        get the whole context without paying for it."""
        uri = request.document.uri
        if not self.prefetch or uri not in self._typeahead:
            return
        old = self._grow_timers.pop(uri, None)
        if old is not None:
            old.cancel()
        delay = self._cadence.pause_delay(uri, self._clock())
        loop = asyncio.get_running_loop()
        self._grow_timers[uri] = loop.call_later(delay, self._grow, request)

    def _grow(self, request: CompletionRequest) -> None:
        uri = request.document.uri
        self._grow_timers.pop(uri, None)
        if uri in self._growing or uri not in self._typeahead:
            return
        self._growing.add(uri)
        future, token = self._scheduler.run_background(self._make_grow_job(request))
        self._background.add(token)

        def done(ended: asyncio.Future[list[Completion]]) -> None:
            self._growing.discard(uri)
            self._background.discard(token)
            if not ended.cancelled():
                ended.exception()  # retrieved: a preempted job's Cancelled is no error to log

        future.add_done_callback(done)

    def cancel_timer(self, uri: str) -> None:
        """The user did not pause after all."""
        for timers in (self._timers, self._grow_timers):
            timer = timers.pop(uri, None)
            if timer is not None:
                timer.cancel()

    def _prefetch(self, request: CompletionRequest, shown: str, finished: bool) -> None:
        """Compute the suggestion that follows `shown` once the user accepts it.

        If `shown` ends its line, the next suggestion is for the following line (after the
        Enter and auto-indent the editor will insert), cached so that typing the newline, or
        asking again at the line end, answers from it. If `shown` was cut short (not
        `finished`), the rest of it is computed.
        """
        doc = request.document
        self._timers.pop(doc.uri, None)
        if not self.prefetch or not shown or doc.uri not in self._typeahead:
            return
        accepted = request.prefix + shown
        key = (len(accepted), accepted[-256:], request.suffix[:256])
        if self._prefetched_keys.get(doc.uri) == key:
            return  # already queued or done for this exact spot
        self._prefetched_keys[doc.uri] = key
        lead = next_line_lead(accepted, request.suffix) if finished else ""
        ahead = CompletionRequest(
            document=DocumentSnapshot(
                doc.uri, accepted + lead + request.suffix, doc.language_id, doc.version, doc.path
            ),
            offset=len(accepted) + len(lead),
            trigger=Trigger.AUTOMATIC,
        )
        future, token = self._scheduler.run_background(self._make_job(ahead))
        self._background.add(token)

        def done(ended: asyncio.Future[list[Completion]]) -> None:
            self._background.discard(token)
            failed = ended.cancelled() or ended.exception() is not None
            if (failed or token.cancelled) and self._prefetched_keys.get(doc.uri) == key:
                del self._prefetched_keys[doc.uri]  # preempted: may be scheduled again
            results = [] if failed else ended.result()
            cache = self._typeahead.get(doc.uri)  # None: the document was closed meanwhile
            if cache is not None and results and results[0].text:
                # Preempted work still counts: the tokens made so far are the model's answer.
                more = results[0].text
                complete = not cut_short(results[0])
                cache.add(accepted, request.suffix, lead + more, complete)
                if not lead:  # same line: typing along `shown` now reveals the rest too
                    cache.add(request.prefix, request.suffix, shown + more, complete)
                self.prefetched += 1

        future.add_done_callback(done)

    def stop_background(self) -> None:
        """The user moved to another spot: what was queued or runs for the last one (its
        continuation, its full prompt) yields to the new one. Chunks already evaluated stay
        cached (and parked), so a return there still finds them."""
        self.close()
        for token in self._background:
            token.cancel()
        self._background.clear()

    def forget(self, uri: str) -> None:
        """The document was closed."""
        self.cancel_timer(uri)
        self._typeahead.pop(uri, None)
        self._prefetched_keys.pop(uri, None)

    def close(self) -> None:
        for timers in (self._timers, self._grow_timers):
            for timer in timers.values():
                timer.cancel()
            timers.clear()
