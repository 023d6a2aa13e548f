"""Context memory: one `ContextSources` per thread that runs jobs, its builder per model."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from smallcode_lsp.completion.sources import ContextSources, ThreadSources
from smallcode_lsp.engine.tokens import BlockTokenizer


def model() -> SimpleNamespace:
    return SimpleNamespace(blocks=BlockTokenizer(lambda text: [ord(c) for c in text]))


def test_each_thread_gets_its_own_sources_and_keeps_them() -> None:
    memory = ThreadSources()
    here = memory.here()
    assert memory.here() is here
    seen: list[ContextSources] = []
    worker = threading.Thread(target=lambda: seen.extend([memory.here(), memory.here()]))
    worker.start()
    worker.join()
    assert seen[0] is seen[1]
    assert seen[0] is not here
    assert ThreadSources().here() is not here  # another service's memory


def test_the_builder_follows_the_model_object() -> None:
    sources = ContextSources()
    first, second = model(), model()
    builder = sources.builder_for(first)  # type: ignore[arg-type]
    assert sources.builder_for(first) is builder  # type: ignore[arg-type]
    assert sources.builder_for(second) is not builder  # type: ignore[arg-type]
    assert sources.builder_for(second).count == second.blocks.count  # type: ignore[arg-type]
