"""The server's one entry point: settings, open documents, status, and completions through the
scheduler and prefetcher over an engine.

Event loop only. The engine runs on its own thread; its results come back as futures awaited
here, so every field below is written on the loop. Plain types only; server.py translates LSP
messages into calls here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.completion.job import CompletionJob, JobKind
from smallcode_lsp.completion.plan import CompletionPlan, make_plan
from smallcode_lsp.completion.sources import ThreadSources
from smallcode_lsp.default_model import default_model_path
from smallcode_lsp.documents import DocumentStore, TextEdit
from smallcode_lsp.engine.base import CompletionModel, Engine, EngineJob, EngineStatus, NoModel
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.fallback import FallbackEngine
from smallcode_lsp.engine.info import LoadOptions, ModelInfo, ModelLoadError, RemoteOptions
from smallcode_lsp.engine.local.engine import LocalEngine
from smallcode_lsp.engine.remote.engine import RemoteEngine, client_key
from smallcode_lsp.options import Settings
from smallcode_lsp.prefetcher import Prefetcher
from smallcode_lsp.scheduler import Clock, Scheduler
from smallcode_lsp.types import Completion, CompletionRequest, DocumentSnapshot, GenerationStats
from smallcode_lsp.warmer import Warmer
from smallcode_lsp.workspace.index import WorkspaceIndex


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
    state: str = "starting"  # starting | loading | ready | generating | error | disabled | fallback
    error: str | None = None
    model: ModelInfo | None = None
    last: GenerationStats | None = None
    last_latency_ms: float | None = None
    requests: int = 0
    from_cache: int = 0  # answered by type-ahead reuse, no model work


def resolve_model_path(setting: str | None) -> str:
    """The GGUF to load: the `model` setting (with ~ expanded), else the embedded default."""
    if setting:
        return str(Path(setting).expanduser())
    return default_model_path()


PROBE_S = 2.0  # how often a remote engine that is down is tried without a request
# How long a request waits for stopped work's answer before asking the model itself: one
# decode step and the post-processing (a prefill chunk in progress has made no answer).
SETTLE_S = 0.06


class _Probe:
    """No work: running it at all makes a remote engine reconnect first."""

    def run(self, model: CompletionModel, cancel: CancelToken) -> list[Completion]:
        return []


class _NoEngine:
    """Stands in until the first load picks the engine the settings ask for (`make_engine`):
    no thread, no model, so a remote `engineUrl` never starts an in-process engine."""

    def load(self, resolve_path: Callable[[], str], options: LoadOptions) -> Future[ModelInfo]:
        future: Future[ModelInfo] = Future()
        future.set_exception(ModelLoadError("no engine chosen"))
        return future

    def complete(
        self, job: EngineJob, cancel: CancelToken, *, background: bool = False
    ) -> Future[list[Completion]]:
        future: Future[list[Completion]] = Future()
        future.set_exception(NoModel("no model loaded"))
        return future

    def status(self) -> EngineStatus:
        return EngineStatus()

    def close(self) -> None:
        pass


def make_engine(remote: RemoteOptions | None) -> Engine:
    """The in-process engine, or a remote one when `engineUrl` is set (with the in-process
    model while it is down, when `engineFallback` is on)."""
    if remote is None:
        return LocalEngine()
    if remote.fallback:
        return FallbackEngine(RemoteEngine(remote))
    return RemoteEngine(remote)


class CompletionService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        on_status: Callable[[], None] | None = None,
        on_stats: Callable[[dict[str, object]], None] | None = None,
        clock: Clock = time.perf_counter,
        choose_engine: Callable[[RemoteOptions | None], Engine] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """`choose_engine`: replace `engine` at load when the settings ask for another
        (in-process or remote); without it the given engine is kept (tests). Without an
        `engine`, none runs until the first load makes the one the settings ask for
        (`choose_engine`, by default `make_engine`)."""
        self.settings = settings
        if engine is None:
            choose_engine = choose_engine or make_engine
        self.engine: Engine = engine if engine is not None else _NoEngine()
        self._choose_engine = choose_engine
        self._remote: RemoteOptions | None = None  # what `engine` was made for
        self._roots: list[str] = []
        self._on_error = on_error or (lambda message: None)
        self._plan: CompletionPlan = make_plan(settings)
        self._on_status = on_status or (lambda: None)
        self._on_stats = on_stats or (lambda stats: None)
        self._clock = clock
        self.status = ServiceStatus()
        self.acceptance = Acceptance()
        self.documents = DocumentStore()
        self._index: WorkspaceIndex | None = None
        # Handed to jobs: each engine thread that runs them keeps its own context memory.
        self._memory = ThreadSources()
        cadence = TypingCadence()
        self.scheduler = Scheduler(self.engine, cadence, clock)
        self.prefetcher = Prefetcher(
            self.scheduler, cadence, self._prefetch_job, self._grow_job, clock
        )
        self.prefetcher.configure(settings.completion.typeahead, settings.completion.prefetch)
        self.warmer = Warmer(
            self.scheduler,
            self._warm_job,
            self.prefetcher.remember,
            self.prefetcher.stop_background,
        )
        self.warmer.configure(settings.completion.prefill_at_rest)
        self._resting: CompletionRequest | None = None  # a spot to warm once loaded
        self._latest: dict[str, DocumentSnapshot] = {}  # the newest request's text, per document
        self._closed = False
        self._probe: asyncio.TimerHandle | None = None

    # -- model ---------------------------------------------------------------------------------

    def load_model(self) -> asyncio.Future[ModelInfo]:
        """Start (re)loading the model for the current settings; the future carries the result
        (resolved on the event loop, after the status is updated)."""
        self._set_state("loading")
        self._use_chosen_engine()
        path = self.settings.model.path
        future = asyncio.wrap_future(
            self.engine.load(lambda: resolve_model_path(path), self.settings.model.load_options())
        )
        future.add_done_callback(self._loaded)
        return future

    def _loaded(self, future: asyncio.Future[ModelInfo]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, ModelLoadError):
            self.status.model, self.status.error = None, str(error)
            self._set_state("error")
            self._follow_engine()  # a remote engine: watch for it to come back
        elif error is None:
            self.status.model, self.status.error = future.result(), None
            self._set_state("ready" if self.settings.completion.enable else "disabled")
            self._follow_engine()  # a remote engine down at load: its fallback answers
            resting, self._resting = self._resting, None
            if resting is not None:  # the cursor came to rest while the model loaded
                self.cursor_rests(resting)

    def _use_chosen_engine(self) -> None:
        """In-process or remote, as the settings say now (nothing runs: a load is starting)."""
        if self._choose_engine is None:
            return
        wanted = self.settings.engine.remote_options(client_key(self._roots))
        if wanted == self._remote and not isinstance(self.engine, _NoEngine):
            return
        self.scheduler.close()  # cancels what still runs on the old engine
        self.engine.close()
        self.engine = self._choose_engine(wanted)
        self.scheduler.use_engine(self.engine)
        self._remote = wanted

    def _follow_engine(self) -> None:
        """A remote engine fails and recovers between loads: the status follows it."""
        engine = self.engine.status()
        if engine.loading:
            return
        if engine.fallback is not None:  # answered by the in-process model meanwhile
            new = engine.fallback != self.status.error
            self.status.error = engine.fallback
            self.status.model = engine.model or self.status.model
            if new:
                self._on_error(f"SmallCode: {engine.fallback}")
            if self.status.state != "fallback":
                self._set_state("fallback")
            elif new:
                self._on_status()
            self._schedule_probe()
        elif engine.error is not None:
            new = engine.error != self.status.error
            self.status.error = engine.error
            if new:
                self._on_error(f"SmallCode: {engine.error}")
            if self.status.state != "error":
                self._set_state("error")
            elif new:
                self._on_status()
            if engine.kind == "remote":
                self._schedule_probe()
        elif self.status.error is not None and engine.model is not None:  # recovered
            self.status.model, self.status.error = engine.model, None
            state = "ready" if self.settings.completion.enable else "disabled"
            if self.status.state != state:
                self._set_state(state)
            else:
                self._on_status()

    def _schedule_probe(self) -> None:
        """While a remote engine is down, try it every PROBE_S (an empty background job: the
        engine reconnects before running it), so the status recovers without a keystroke."""
        if self._probe is not None or self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the event loop (unit tests): the next request retries
            return
        self._probe = loop.call_later(PROBE_S, self._run_probe)

    def _run_probe(self) -> None:
        self._probe = None
        if self._closed:
            return
        probe = self.engine.complete(_Probe(), CancelToken(), background=True)
        asyncio.wrap_future(probe).add_done_callback(self._probed)

    def _probed(self, future: asyncio.Future[list[Completion]]) -> None:
        if not future.cancelled():
            future.exception()  # retrieved: a probe failing is what is expected while down
        self._follow_engine()

    def update_settings(self, settings: Settings) -> bool:
        """Apply new settings; returns True when the model must be reloaded."""
        reload = self.settings.reload_needed(settings)
        self.settings = settings
        self._plan = make_plan(settings)
        self.prefetcher.configure(settings.completion.typeahead, settings.completion.prefetch)
        self.warmer.configure(settings.completion.prefill_at_rest)
        if not reload and self.status.state in ("ready", "disabled"):
            self._set_state("ready" if settings.completion.enable else "disabled")
        return reload

    # -- documents -----------------------------------------------------------------------------

    def open_document(self, uri: str, text: str, language_id: str, path: str | None) -> None:
        self.documents.open(uri, text, language_id, path)

    def change_document(self, uri: str, edits: list[TextEdit], text: str | None) -> None:
        """The document changed: whatever runs for it is stale; the user did not pause."""
        self.cancel_document(uri)
        if text is not None:
            self.documents.change(uri, edits, text)

    def close_document(self, uri: str) -> None:
        self.documents.close(uri)
        self.cancel_document(uri)
        self.prefetcher.forget(uri)
        self._latest.pop(uri, None)

    def cancel_document(self, uri: str) -> None:
        self.prefetcher.cancel_timer(uri)
        self.warmer.typed(uri)
        if self._resting is not None and self._resting.document.uri == uri:
            self._resting = None
        self.scheduler.cancel_document(uri)

    def start_index(self, roots: list[str]) -> None:
        """Index the workspace roots in the background (symbols for cross-file context)."""
        self._roots = list(roots)  # also who we are to a remote engine (its slot)
        if not roots or not self.settings.completion.workspace_index or self._index is not None:
            return
        self._index = WorkspaceIndex(roots)
        self._index.start()

    # -- completions ---------------------------------------------------------------------------

    def enabled_for(self, language_id: str) -> bool:
        features = self.settings.completion
        return features.enable and language_id not in features.disabled_languages

    def _job(self, request: CompletionRequest) -> CompletionJob:
        doc = request.document
        parsed = self.documents.snapshot(doc.uri, doc.text)
        return CompletionJob(request, self._plan, self._memory, self._index, parsed)

    def _prefetch_job(self, request: CompletionRequest) -> CompletionJob:
        return CompletionJob(request, self._plan, self._memory, self._index, kind=JobKind.PREFETCH)

    def _grow_job(self, request: CompletionRequest) -> CompletionJob:
        return CompletionJob(request, self._plan, self._memory, self._index, kind=JobKind.GROW)

    def _warm_job(self, request: CompletionRequest) -> CompletionJob:
        doc = request.document
        parsed = self.documents.snapshot(doc.uri, doc.text)  # the tree kept in step, not a parse
        return CompletionJob(
            request, self._plan, self._memory, self._index, parsed, kind=JobKind.WARM
        )

    def cursor_rests(self, request: CompletionRequest) -> None:
        """The editor's cursor is at `request`'s spot (no keystroke yet): warm it up."""
        if self._closed or not self.enabled_for(request.document.language_id):
            return
        if self.status.state == "loading":
            self._resting = request  # warmed once the model is there (_loaded)
            return
        if self.status.state not in ("ready", "generating", "fallback"):
            return  # nothing loaded to warm
        self.warmer.rest(request)

    async def complete(self, request: CompletionRequest) -> list[Completion]:
        """Completions for `request`; [] when cancelled, disabled or no model is loaded."""
        uri = request.document.uri
        if self._closed or not self.enabled_for(request.document.language_id):
            return []
        self.cancel_document(uri)  # a newer request replaces the running one
        self._latest[uri] = request.document
        self.status.requests += 1
        received = self._clock()
        request = self.scheduler.with_deadline(request, self.settings.completion.latency_budget_ms)
        cached = self.prefetcher.lookup(request)
        if cached is None and await self._settled(uri):
            if self._latest.get(uri) is not request.document:
                return []  # a newer keystroke came meanwhile: this one is stale
            cached = self.prefetcher.lookup(request)
        if cached is not None:
            self.status.from_cache += 1
            self.status.last, self.status.last_latency_ms = cached.stats, 0.0
            self.prefetcher.schedule(request, cached, defer=False)
            self._report(cached, 0.0)
            return [cached]
        self._set_state("generating")
        latency_ms = 0.0
        try:
            results = await self.scheduler.run(
                uri, self._job(request), keep=lambda made: self.prefetcher.remember(request, made)
            )
            if results is not None:  # recorded before the status turns `ready`: clients read it
                latency_ms = (self._clock() - received) * 1000
                if results:
                    self.status.last = results[0].stats
                self.status.last_latency_ms = latency_ms
        finally:
            if not self.scheduler.busy and self.status.state == "generating":
                self._set_state("ready")
            self._follow_engine()
        if results is None:
            return []
        if results:
            self._report(results[0], latency_ms)
        shown = [r for r in results if r.text]
        self.prefetcher.remember(request, shown)
        if shown:
            self.prefetcher.schedule(request, shown[0])
        if results and results[0].stats.prompt_shrunk:
            self.prefetcher.schedule_growth(request)
        return shown

    async def _settled(self, uri: str) -> bool:
        """Wait briefly for what the work just stopped in `uri` had made (the last request's
        tokens, the warm job's answer): it reaches the type-ahead cache as the engine stops,
        which the engine must do before it can start this request anyway."""
        stopped = await self.scheduler.settled(uri, SETTLE_S)
        return await self.warmer.settled(uri, SETTLE_S) or stopped

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
        engine = self.engine.status()
        return {
            "state": s.state,
            "model": s.model.path if s.model else None,
            "modelInfo": s.model.as_dict() if s.model else None,
            "error": s.error,
            # What the user was told at load: a native crash survived and what was changed.
            "notice": s.model.runtime.notice if s.model and s.model.runtime else None,
            "last": s.last.as_dict() if s.last else None,
            "lastLatencyMs": round(s.last_latency_ms, 1) if s.last_latency_ms else None,
            "requests": s.requests,
            "cancelled": self.scheduler.cancelled,
            "fromCache": s.from_cache,
            "cancelToIdleMs": [round(ms, 2) for ms in engine.cancel_to_idle_ms],
            "prefetched": self.prefetcher.prefetched,
            "warmStarted": self.warmer.started,  # resting spots prefilled before a keystroke
            "engineIdle": engine.idle,
            "engineBackgroundIdle": engine.background_idle,
            "engine": engine.kind,  # local | remote
            # Who answers now: the in-process model while a remote engine is down (fallback).
            "engineServing": "local" if engine.fallback is not None else engine.kind,
            "engineUrl": engine.url,
            # Every prompt token decoded since the model loaded (background work included).
            "promptTokensEvaluated": engine.prompt_tokens_evaluated,
            "acceptance": self.acceptance.as_dict(),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._probe is not None:
            self._probe.cancel()
        self.prefetcher.close()
        self.warmer.cancel()
        self.scheduler.close()
        self.engine.close()
        if self._index is not None:
            self._index.stop()
