"""Completion service: settings, the engine worker, per-document cancellation, local stats.

Plain types only; server.py translates LSP messages into calls here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.default_model import default_model_path
from smallcode_lsp.documents import DocumentStore
from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.model import LoadedModel, ModelInfo, ModelLoadError
from smallcode_lsp.engine.worker import EngineWorker, NoModel
from smallcode_lsp.options import Settings
from smallcode_lsp.pipeline import ContextSources, run_alternatives
from smallcode_lsp.typeahead import TypeAheadCache
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    DocumentSnapshot,
    GenerationStats,
    StopReason,
    Trigger,
)
from smallcode_lsp.workspace.index import WorkspaceIndex

log = logging.getLogger(__name__)


@dataclass
class Acceptance:
    """Counts kept in memory only: never written or sent anywhere."""

    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    accepted_chars: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "acceptedChars": self.accepted_chars,
        }


@dataclass
class ServiceStatus:
    state: str = "loading"  # loading | ready | generating | error | disabled
    error: str | None = None
    model: ModelInfo | None = None
    last: GenerationStats | None = None
    last_latency_ms: float | None = None
    requests: int = 0
    cancelled: int = 0
    cancel_to_idle_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    from_cache: int = 0  # answered by type-ahead reuse, no model work
    prefetched: int = 0  # background suggestions computed ahead of the user
    acceptance: Acceptance = field(default_factory=Acceptance)


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


def _cut_short(completion: Completion) -> bool:
    """The model had more to say: a deadline, the token limit or a preemption stopped it."""
    return completion.stats.stop_reason in (
        StopReason.DEADLINE,
        StopReason.MAX_TOKENS,
        StopReason.CANCELLED,
    )


def resolve_model_path(setting: str | None) -> str:
    """The GGUF to load: the `model` setting (with ~ expanded), else the embedded default."""
    if setting:
        return str(Path(setting).expanduser())
    return default_model_path()


class CompletionService:
    def __init__(
        self,
        settings: Settings,
        on_status: Callable[[], None] | None = None,
        on_stats: Callable[[dict[str, object]], None] | None = None,
    ) -> None:
        self.settings = settings
        self._on_stats = on_stats or (lambda stats: None)
        self.worker = EngineWorker()
        self.status = ServiceStatus()
        self._on_status = on_status or (lambda: None)
        self._running: dict[str, CancelToken] = {}
        self.documents = DocumentStore()
        self.sources = ContextSources()
        self._typeahead: dict[str, TypeAheadCache] = {}
        self._prefetched_keys: dict[str, tuple[int, str, str]] = {}
        self._cadence = TypingCadence()
        self._prefetch_timers: dict[str, asyncio.TimerHandle] = {}
        self._typeahead_lock = threading.Lock()  # prefetch results arrive on the worker thread

    # -- model ---------------------------------------------------------------------------------

    def load_model(self) -> Future[ModelInfo]:
        """Start (re)loading the model for the current settings; the future carries the result."""
        self._set_state("loading")
        setting = self.settings.model.path
        future = self.worker.load(
            lambda: resolve_model_path(setting), self.settings.model.load_options()
        )
        future.add_done_callback(self._loaded)
        return future

    def _loaded(self, future: Future[ModelInfo]) -> None:
        try:
            self.status.model = future.result()
            self.status.error = None
            self._set_state("ready" if self.settings.completion.enable else "disabled")
        except ModelLoadError as exc:
            self.status.model = None
            self.status.error = str(exc)
            self._set_state("error")

    def update_settings(self, settings: Settings) -> bool:
        """Apply new settings; returns True when the model must be reloaded."""
        reload = self.settings.reload_needed(settings)
        self.settings = settings
        if not reload and self.status.state in ("ready", "disabled"):
            self._set_state("ready" if settings.completion.enable else "disabled")
        return reload

    # -- completions ---------------------------------------------------------------------------

    def enabled_for(self, language_id: str) -> bool:
        return (
            self.settings.completion.enable
            and language_id not in self.settings.completion.disabled_languages
        )

    def cancel_document(self, uri: str) -> None:
        """The document changed: whatever is generating for it is stale now."""
        self._cancel_prefetch_timer(uri)  # the user did not pause after all
        token = self._running.pop(uri, None)
        if token is not None:
            token.cancel()

    def start_index(self, roots: list[str]) -> None:
        """Index the workspace roots in the background (symbols for cross-file context)."""
        if (
            not roots
            or not self.settings.completion.workspace_index
            or self.sources.index is not None
        ):
            return
        index = WorkspaceIndex(roots)
        index.start()
        self.sources.index = index

    def forget_document(self, uri: str) -> None:
        self.documents.close(uri)
        self.cancel_document(uri)
        self._cadence.forget(uri)
        with self._typeahead_lock:
            self._typeahead.pop(uri, None)

    def _from_typeahead(self, request: CompletionRequest) -> Completion | None:
        if not self.settings.completion.typeahead or request.trigger is Trigger.INVOKED:
            return None  # an explicit request asks for fresh alternatives
        with self._typeahead_lock:
            cache = self._typeahead.get(request.document.uri)
            hit = cache.find(request.prefix, request.suffix) if cache else None
        if hit is None:
            return None
        stop = StopReason.EOG if hit.complete else StopReason.DEADLINE
        return Completion(hit.rest, GenerationStats(from_cache=True, stop_reason=stop))

    def _remember(self, request: CompletionRequest, completions: list[Completion]) -> None:
        with self._typeahead_lock:
            cache = self._typeahead.setdefault(request.document.uri, TypeAheadCache())
            for completion in completions:
                complete = not _cut_short(completion)
                cache.add(request.prefix, request.suffix, completion.text, complete)

    def _schedule_prefetch(
        self, request: CompletionRequest, shown: str, finished: bool, defer: bool = True
    ) -> None:
        """Prefetch now, or, while the user types in a burst, once they pause (event loop).

        Not deferred after a type-ahead hit: typing along a suggestion asks nothing of the
        engine, so the continuation runs undisturbed while the user types on.
        """
        uri = request.document.uri
        self._cancel_prefetch_timer(uri)
        delay = self._cadence.pause_delay(uri, time.perf_counter()) if defer else 0.0
        if delay <= 0:
            self._prefetch(request, shown, finished)
            return
        loop = asyncio.get_running_loop()
        self._prefetch_timers[uri] = loop.call_later(
            delay, self._prefetch, request, shown, finished
        )

    def _cancel_prefetch_timer(self, uri: str) -> None:
        timer = self._prefetch_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def _prefetch(self, request: CompletionRequest, shown: str, finished: bool = True) -> None:
        """When idle, compute the suggestion that follows `shown` once the user accepts it.

        If `shown` ends its line, the next suggestion is for the following line (after the
        Enter and auto-indent the editor will insert), cached so that typing the newline, or
        asking again at the line end, answers from it. If `shown` was cut short (not
        `finished`: the deadline or token limit stopped it), the rest of it is computed.
        """
        self._prefetch_timers.pop(request.document.uri, None)
        if not self.settings.completion.prefetch or not shown:
            return
        doc = request.document
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
        token = CancelToken()
        settings = self.settings
        future = self.worker.submit_with_model(
            lambda model: run_alternatives(
                model, ahead, settings, token, self.sources, protect_cache=True
            ),
            token,
            background=True,
        )

        def done(finished: Future[list[Completion]]) -> None:
            failed = finished.cancelled() or finished.exception() is not None
            if (failed or token.cancelled) and self._prefetched_keys.get(doc.uri) == key:
                del self._prefetched_keys[doc.uri]  # preempted: may be scheduled again
            results = [] if failed else finished.result()
            if results and results[0].text:
                # Preempted work still counts: the tokens made so far are the model's answer.
                more = results[0].text
                complete = not _cut_short(results[0])
                with self._typeahead_lock:
                    cache = self._typeahead.setdefault(doc.uri, TypeAheadCache())
                    cache.add(accepted, request.suffix, lead + more, complete)
                    if not lead:  # same line: typing along `shown` now reveals the rest too
                        cache.add(request.prefix, request.suffix, shown + more, complete)
                self.status.prefetched += 1

        future.add_done_callback(done)

    async def complete(self, request: CompletionRequest) -> list[Completion]:
        """Completions for `request`; [] when cancelled, disabled or no model is loaded."""
        uri = request.document.uri
        if not self.enabled_for(request.document.language_id):
            return []
        self.cancel_document(uri)  # a newer request replaces the running one
        self.status.requests += 1
        received = time.perf_counter()
        if request.trigger is Trigger.AUTOMATIC and self.settings.completion.latency_budget_ms > 0:
            self._cadence.note(uri, received)
            budget_ms = self._cadence.budget_ms(uri, self.settings.completion.latency_budget_ms)
            request = replace(request, deadline=received + budget_ms / 1000)
        cached = self._from_typeahead(request)
        if cached is not None:
            self.status.from_cache += 1
            self.status.last = cached.stats
            self.status.last_latency_ms = 0.0
            self._schedule_prefetch(
                request, cached.text, finished=not _cut_short(cached), defer=False
            )
            self._report(cached, 0.0)
            return [cached]
        token = CancelToken()
        self._running[uri] = token
        settings = self.settings
        self._set_state("generating")
        parsed = self.documents.snapshot(uri, request.document.text)
        submitted = time.perf_counter()

        def job(model: LoadedModel) -> list[Completion]:
            waited_ms = (time.perf_counter() - submitted) * 1000
            results = run_alternatives(model, request, settings, token, self.sources, parsed)
            for completion in results:
                completion.stats.queue_ms = waited_ms
            return results

        future = self.worker.submit_with_model(job, token)
        future.add_done_callback(lambda _: self._engine_released(token))
        try:
            results = await asyncio.wrap_future(future)
        except asyncio.CancelledError:  # $/cancelRequest: stop the engine before the next token
            token.cancel()
            self.status.cancelled += 1
            raise
        except (Cancelled, NoModel):
            return []
        finally:
            if self._running.get(uri) is token:
                del self._running[uri]
            if not self._running and self.status.state == "generating":
                self._set_state("ready")
        if token.cancelled:
            self.status.cancelled += 1
            return []
        if results:
            self.status.last = results[0].stats
        self.status.last_latency_ms = (time.perf_counter() - received) * 1000
        shown = [r for r in results if r.text]
        if results:
            self._report(results[0], self.status.last_latency_ms)
        self._remember(request, shown)
        if shown:
            self._schedule_prefetch(request, shown[0].text, finished=not _cut_short(shown[0]))
        return shown

    def _engine_released(self, token: CancelToken) -> None:
        """A job ended: if it was cancelled, how long the engine took to let go (worker thread)."""
        if token.cancelled_at is not None:
            self.status.cancel_to_idle_ms.append((time.perf_counter() - token.cancelled_at) * 1000)

    def _report(self, completion: Completion, latency_ms: float) -> None:
        if self.settings.completion.debug:
            context = [{"kind": s.kind, "path": s.path, "text": s.text} for s in completion.context]
            stats = completion.stats.as_dict()
            self._on_stats({**stats, "latencyMs": round(latency_ms, 2), "context": context})

    # -- state ---------------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        if self.status.state != state:
            self.status.state = state
            self._on_status()

    def status_dict(self) -> dict[str, object]:
        s = self.status
        model = self.worker.model
        return {
            "state": s.state,
            "model": s.model.path if s.model else None,
            "modelInfo": s.model.as_dict() if s.model else None,
            "error": s.error,
            "last": s.last.as_dict() if s.last else None,
            "lastLatencyMs": round(s.last_latency_ms, 1) if s.last_latency_ms else None,
            "requests": s.requests,
            "cancelled": s.cancelled,
            "fromCache": s.from_cache,
            # tuple() copies in one C call: the worker thread appends meanwhile.
            "cancelToIdleMs": [round(ms, 2) for ms in tuple(s.cancel_to_idle_ms)],
            "prefetched": s.prefetched,
            "engineIdle": self.worker.idle,
            # Every prompt token decoded since the model loaded (background work included).
            "promptTokensEvaluated": model.prompt_tokens_evaluated if model else 0,
            "acceptance": s.acceptance.as_dict(),
        }

    def close(self) -> None:
        for timer in self._prefetch_timers.values():
            timer.cancel()
        self._prefetch_timers.clear()
        for token in self._running.values():
            token.cancel()
        self._running.clear()
        self.worker.stop()
        if self.sources.index is not None:
            self.sources.index.stop()
