"""Prompt evaluation with KV-cache prefix reuse, and the token-by-token decode loop."""

from __future__ import annotations

import codecs
import time
from collections.abc import Sequence

import llama_cpp
from llama_cpp import _internals

from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.model import LoadedModel
from smallcode_lsp.engine.stops import StopRule, first_cut
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason

# Prompt chunks are decoded this many tokens at a time so a cancel lands within one chunk
# (~60 ms of prefill on 2 cores) instead of after the whole prompt.
PREFILL_CHUNK = 32


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def evaluate_prompt(
    model: LoadedModel,
    tokens: Sequence[int],
    cancel: CancelToken,
    stats: GenerationStats,
    reuse: bool = True,
) -> None:
    """Make the KV cache hold `tokens`, decoding only what differs from what is cached.

    On return the logits of the last prompt token are ready for sampling. A cancel leaves the
    cache consistent (it holds the part decoded so far) so the next request still reuses it.
    """
    if not tokens:
        raise ValueError("empty prompt")
    keep = common_prefix_length(model.cached, tokens) if reuse else 0
    if keep == len(tokens):
        keep -= 1  # the last token must be decoded again to get its logits
    memory = model.context.memory
    if keep < len(model.cached):
        if not llama_cpp.llama_memory_seq_rm(memory, 0, keep, -1):
            llama_cpp.llama_memory_clear(memory, True)
            keep = 0
        del model.cached[keep:]
    stats.prompt_tokens = len(tokens)
    stats.prompt_tokens_reused = keep
    stats.prompt_tokens_evaluated = len(tokens) - keep
    start = time.perf_counter()
    try:
        for begin in range(keep, len(tokens), PREFILL_CHUNK):
            cancel.raise_if_cancelled()
            chunk = list(tokens[begin : begin + PREFILL_CHUNK])
            _decode(model, chunk, begin)
    finally:
        stats.prompt_ms = (time.perf_counter() - start) * 1000


def _decode(model: LoadedModel, chunk: list[int], position: int) -> None:
    model.batch.set_batch(chunk, n_past=position, logits_all=False)
    try:
        model.context.decode(model.batch)
    except RuntimeError:
        # A failed decode leaves the cache in an unknown state: forget it entirely.
        llama_cpp.llama_memory_clear(model.context.memory, True)
        model.cached.clear()
        raise
    model.cached.extend(chunk)


def make_sampler(params: GenerationParams, seed: int = 0) -> _internals.LlamaSampler:
    """A C sampler chain: greedy at temperature 0 (the default), else top-k/top-p/temp."""
    sampler = _internals.LlamaSampler()
    if params.temperature <= 0:
        sampler.add_greedy()
    else:
        sampler.add_top_k(40)
        sampler.add_top_p(0.95, 1)
        sampler.add_temp(params.temperature)
        sampler.add_dist(seed)
    return sampler


def generate(
    model: LoadedModel,
    prompt: Sequence[int],
    params: GenerationParams,
    stop_rules: Sequence[StopRule],
    cancel: CancelToken,
    reuse: bool = True,
) -> tuple[str, GenerationStats]:
    """Decode up to `params.max_tokens` tokens after `prompt`; returns (text, stats).

    Cancellation is checked before every decode step: a cancelled job stops within one token.
    """
    stats = GenerationStats()
    try:
        evaluate_prompt(model, prompt, cancel, stats, reuse)
    except Cancelled:
        stats.stop_reason = StopReason.CANCELLED
        return "", stats
    sampler = make_sampler(params)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = ""
    budget = min(params.max_tokens, model.n_ctx - len(model.cached))
    start = time.perf_counter()
    stats.stop_reason = StopReason.MAX_TOKENS
    try:
        for step in range(max(0, budget)):
            token = sampler.sample(model.context, -1)
            if model.is_eog(token):
                stats.stop_reason = StopReason.EOG
                break
            stats.generated_tokens += 1
            text += decoder.decode(model.piece(token))
            cut = first_cut(stop_rules, text)
            if cut is not None:
                text = text[:cut]
                stats.stop_reason = StopReason.STOP_RULE
                break
            if cancel.cancelled:
                stats.stop_reason = StopReason.CANCELLED
                break
            if step + 1 < budget:  # llama_sampler_sample already accepted the token
                _decode(model, [token], len(model.cached))
    finally:
        stats.generate_ms = (time.perf_counter() - start) * 1000
        sampler.close()
    return text, stats
