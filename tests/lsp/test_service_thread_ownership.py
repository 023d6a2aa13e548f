"""Every piece of state has one owner thread: the service side is written on the event loop
only, the engine's objects on the engine's thread only, and each context memory
(`ContextSources`, its builder and recent code) on one engine thread, also under
`engineFallback`'s two (the real engine and model, with prefetch, type-ahead and cancellation
all exercised)."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from smallcode_lsp.cadence import TypingCadence
from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.context.builder import ContextBuilder
from smallcode_lsp.documents import DocumentStore
from smallcode_lsp.engine.fallback import FallbackEngine
from smallcode_lsp.engine.local.engine import LocalEngine
from smallcode_lsp.engine.local.kv_cache import KVCache
from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.options import Settings
from smallcode_lsp.prefetcher import Prefetcher
from smallcode_lsp.scheduler import Scheduler
from smallcode_lsp.service import Acceptance, CompletionService, ServiceStatus
from smallcode_lsp.typeahead import TypeAheadCache
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, Trigger
from smallcode_lsp.workspace.recent import RecentSnippets

pytestmark = pytest.mark.e2e

LOOP_SIDE = (
    CompletionService,
    ServiceStatus,
    Acceptance,
    Scheduler,
    Prefetcher,
    TypingCadence,
    TypeAheadCache,
    DocumentStore,
)
ENGINE_SIDE = (LoadedModel, SpeedMeter)
KV_METHODS = ("appended", "truncate", "clear", "reuse")
# Context memory: what writes it (per instance: two threads must never share one).
MEMORY_METHODS = (
    (ContextSources, ("use_index", "note_cursor", "builder_for")),
    (ContextBuilder, ("build",)),
    (RecentSnippets, ("add_around",)),
)
Writers = dict[tuple[str, int], set[threading.Thread]]


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, set[str]]]:
    """Class name -> names of the threads that wrote its attributes (or, for the KV cache,
    called its mutating methods)."""
    seen: dict[str, set[str]] = defaultdict(set)

    def record(cls: type) -> None:
        original = cls.__setattr__

        def setattr_(self: Any, name: str, value: Any) -> None:
            seen[cls.__name__].add(threading.current_thread().name)
            original(self, name, value)

        monkeypatch.setattr(cls, "__setattr__", setattr_)

    for cls in (*LOOP_SIDE, *ENGINE_SIDE):
        record(cls)
    for name in KV_METHODS:
        method = getattr(KVCache, name)

        def wrapped(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            seen["KVCache"].add(threading.current_thread().name)
            return _method(self, *args, **kwargs)

        monkeypatch.setattr(KVCache, name, wrapped)
    yield seen


@pytest.fixture
def memory_writers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Writers]:
    """(class name, id()) of each context memory object -> the threads that wrote it (by
    their objects: every engine thread is named "smallcode-engine")."""
    seen: Writers = defaultdict(set)
    keep: list[object] = []  # the objects stay alive, so their ids stay theirs
    for cls, names in MEMORY_METHODS:
        for name in names:
            method = getattr(cls, name)

            def wrapped(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
                keep.append(self)
                seen[(type(self).__name__, id(self))].add(threading.current_thread())
                return _method(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, wrapped)
    yield seen


def at(text: str, offset: int, trigger: Trigger = Trigger.AUTOMATIC) -> CompletionRequest:
    return CompletionRequest(DocumentSnapshot("file:///t.py", text, "python", 1), offset, trigger)


async def test_service_state_on_the_loop_engine_state_on_the_worker(
    writers: dict[str, set[str]],
    memory_writers: Writers,
    default_model: str,
) -> None:
    loop_thread = threading.current_thread().name
    service = CompletionService(Settings(), LocalEngine())
    try:
        await asyncio.wait_for(service.load_model(), 120)
        text = "def area(radius):\n    return \n"
        offset = text.index("return ") + len("return ")
        service.open_document("file:///t.py", text, "python", None)
        first = await service.complete(at(text, offset))
        assert first and first[0].text
        # Typing along the suggestion, then a request cancelled by the next keystroke.
        typed = text[:offset] + first[0].text[:1] + text[offset:]
        await service.complete(at(typed, offset + 1))
        pending = asyncio.ensure_future(service.complete(at(text, offset, Trigger.INVOKED)))
        await asyncio.sleep(0.05)
        service.cancel_document("file:///t.py")
        await pending
        await asyncio.sleep(1.0)  # let a prefetch run on the worker
        assert service.engine.status().prompt_tokens_evaluated > 0
    finally:
        service.close()
    for cls in LOOP_SIDE:
        assert writers[cls.__name__] <= {loop_thread}, (cls.__name__, writers[cls.__name__])
    for name in ("LoadedModel", "SpeedMeter", "KVCache"):
        assert writers[name] == {"smallcode-engine"}, (name, writers[name])
    threads = set().union(*memory_writers.values())
    assert [t.name for t in threads] == ["smallcode-engine"], threads


class TakenDown(LocalEngine):
    """Stands in for a remote engine: a real model on its own worker, down when told."""

    down = False


async def test_under_the_fallback_each_engine_thread_keeps_its_own_context_memory(
    writers: dict[str, set[str]],
    memory_writers: Writers,
    default_model: str,
) -> None:
    """The remote engine's worker answers, then (the engine down) the in-process model's: two
    engine threads run the same service's jobs, and no context memory is written by both."""
    loop_thread = threading.current_thread().name
    remote = TakenDown()
    service = CompletionService(Settings(), FallbackEngine(remote, LocalEngine))
    try:
        await asyncio.wait_for(service.load_model(), 120)
        # The engine fails and comes back, twice; a new spot each time (no type-ahead answer).
        for n, down in enumerate((False, True, False, True)):
            remote.down = down
            text = f"def area_{n}(radius):\n    return \n"
            offset = text.index("return ") + len("return ")
            service.open_document("file:///t.py", text, "python", None)
            await asyncio.wait_for(service.complete(at(text, offset, Trigger.INVOKED)), 120)
        await asyncio.sleep(1.0)  # let a prefetch run
    finally:
        service.close()
    for cls in LOOP_SIDE:
        assert writers[cls.__name__] <= {loop_thread}, (cls.__name__, writers[cls.__name__])
    threads = set().union(*memory_writers.values())
    assert len(threads) == 2, threads  # both engine threads ran jobs
    assert {t.name for t in threads} == {"smallcode-engine"}, threads
    shared = [name for (name, _), w in memory_writers.items() if len(w) > 1]
    assert not shared, f"written by both engine threads: {shared}"
