"""A cancel aborts llama_decode part-way (abort.py) and leaves a KV cache the next request can
reuse; an Automatic request's deadline ends decoding once some text is out."""

from __future__ import annotations

import inspect
import json.decoder
import threading
import time

import llama_cpp
import pytest

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.local.generate import (
    PREFILL_CHUNK,
    PREFILL_TAIL,
    generate,
)
from smallcode_lsp.engine.local.kv_cache import KVCache
from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.types import GenerationParams, StopReason

pytestmark = pytest.mark.e2e


def prompt(model: LoadedModel) -> list[int]:
    source = inspect.getsource(json.decoder)
    return [model.bos, *model.tokenize(source[: source.index("class JSONDecoder")])[-600:]]


def cached_positions(model: LoadedModel, cache: KVCache) -> int:
    return llama_cpp.llama_memory_seq_pos_max(model.context.memory, cache.seq) + 1


def clear(model: LoadedModel) -> None:
    model.clear_cache()


@pytest.fixture(scope="module")
def reference(model: LoadedModel) -> str:
    clear(model)
    text, _ = generate(model, prompt(model), GREEDY, [], CancelToken())
    return text


@pytest.fixture(scope="module")
def warm_reference(model: LoadedModel) -> str:
    """The answer once the whole prompt is cached: its last token is then decoded alone, not in
    the 4-token tail, and llama.cpp's sums differ with the batch size (on some CPUs enough to
    flip a near-tie of the greedy choice), so that is the answer a fully cached prompt gives."""
    tokens = prompt(model)
    clear(model)
    generate(model, tokens, GenerationParams(max_tokens=1), [], CancelToken())
    text, stats = generate(model, tokens, GREEDY, [], CancelToken())
    assert stats.prompt_tokens_reused == len(tokens) - 1
    return text


PARAMS = GenerationParams(max_tokens=24)
GREEDY = GenerationParams(max_tokens=24, speculative=False)


@pytest.mark.parametrize("after_s", [0.05, 0.4, 1.5])
def test_cancel_at_any_moment_leaves_a_reusable_cache(
    model: LoadedModel, reference: str, warm_reference: str, after_s: float
) -> None:
    tokens = prompt(model)
    clear(model)
    cancel = CancelToken()
    timer = threading.Timer(after_s, cancel.cancel)
    timer.start()
    _text, stats = generate(model, tokens, GenerationParams(max_tokens=400), [], cancel)
    timer.join()
    if stats.stop_reason is not StopReason.CANCELLED:
        pytest.skip("the generation finished before the cancel")  # a very fast machine
    # The cache holds exactly what `cached` says: whole prompt chunks (a cancel lets a
    # prompt chunk finish, all but the last few tokens) or the prompt plus the tokens
    # decoded before the abort.
    cache = model.pick_cache(tokens)  # the one the generation used
    cached = list(cache.tokens)
    assert cached_positions(model, cache) == len(cached)
    assert cached == tokens[: len(cached)] or cached[: len(tokens)] == tokens
    if len(cached) < len(tokens) - 1:
        assert len(cached) % PREFILL_CHUNK == 0 or len(cached) == len(tokens) - PREFILL_TAIL
    kept = len(cached)
    again, again_stats = generate(model, tokens, GREEDY, [], CancelToken())
    # The reused cache answers as an uncancelled run whose cache held as much of the prompt.
    assert again == (warm_reference if kept >= len(tokens) - 1 else reference)
    assert again_stats.prompt_tokens_reused == min(kept, len(tokens) - 1)


def test_a_late_trip_from_an_earlier_job_does_not_stop_the_next(
    model: LoadedModel, reference: str
) -> None:
    tokens = prompt(model)
    clear(model)
    tripped: list[int] = []

    def late_trip(text: str) -> None:
        # As if an earlier job's canceller ran after this job armed the switch: the next
        # llama_decode aborts although this job's token is not cancelled.
        if len(tripped) < 2:
            model.abort.trip()
            tripped.append(len(text))
        return None

    text, stats = generate(model, tokens, GREEDY, [late_trip], CancelToken())
    assert len(tripped) == 2
    assert stats.stop_reason is not StopReason.CANCELLED
    assert text == reference


def test_a_deadline_the_prompt_overran_still_answers_the_line(model: LoadedModel) -> None:
    tokens = prompt(model)
    clear(model)
    generate(model, tokens, GenerationParams(max_tokens=1), [], CancelToken())  # warm cache
    full, _ = generate(model, tokens, GenerationParams(max_tokens=32), [], CancelToken())
    assert "\n" in full.strip()  # the model has more than one line to say here
    soon = GenerationParams(max_tokens=32, deadline=time.perf_counter(), finish_line=True)
    text, stats = generate(model, tokens, soon, [], CancelToken())
    # Not the first token: the prefill was paid for, the answer is its first line (all of
    # it within LINE_AFTER_OVERRUN_MS: on a slow or busy machine, its start).
    assert stats.stop_reason is StopReason.DEADLINE
    first_line = full[: full.index("\n", len(full) - len(full.lstrip()))]
    assert first_line.startswith(text) and stats.generated_tokens >= 2
    later = GenerationParams(max_tokens=32, deadline=time.perf_counter() + 600)
    text, stats = generate(model, tokens, later, [], CancelToken())
    assert text == full
    # In a typing burst (a deadline cut to the keystroke interval) the next key is due: the
    # first words are the answer, not a line the next key would cancel unseen.
    burst = GenerationParams(max_tokens=32, deadline=time.perf_counter(), finish_line=False)
    text, stats = generate(model, tokens, burst, [], CancelToken())
    assert stats.stop_reason is StopReason.DEADLINE and text.strip()
    assert first_line.startswith(text) and len(text) < len(first_line)
