"""Prompt evaluation with KV-cache prefix reuse, and the token-by-token decode loop."""

from __future__ import annotations

import codecs
import time
from collections.abc import Sequence

import llama_cpp
from llama_cpp import _internals

from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.lookup import NgramIndex
from smallcode_lsp.engine.model import LoadedModel
from smallcode_lsp.engine.stops import StopRule, first_cut
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason

# Prompt chunks are decoded this many tokens at a time so a cancel lands within one chunk
# (~60-150 ms of prefill on 2 cores) instead of after the whole prompt, and keeps the chunks
# done (the next request shares most of the prompt). Decoding, the last chunk included,
# stops within a graph node instead (abort.py).
PREFILL_CHUNK = 32


def evaluate_prompt(
    model: LoadedModel,
    tokens: Sequence[int],
    cancel: CancelToken,
    stats: GenerationStats,
    params: GenerationParams,
) -> None:
    """Make the KV cache hold `tokens`, decoding only what differs from what is cached.

    Beyond the common prefix, cached chunks of at least `params.shift_chunk` tokens that
    reappear after deleted text are shifted into place instead of decoded again (0: off). On
    return the logits of the last prompt token are ready for sampling. A cancel leaves the
    cache consistent (it holds the part decoded so far) so the next request still reuses it.
    """
    if not tokens:
        raise ValueError("empty prompt")
    if params.reuse:
        keep, stats.prompt_tokens_shifted = model.kv.reuse(tokens, params.shift_chunk)
    else:
        keep = model.kv.truncate(0)
    stats.prompt_tokens = len(tokens)
    stats.prompt_tokens_reused = keep
    stats.prompt_tokens_evaluated = len(tokens) - keep
    start = time.perf_counter()
    try:
        for begin in range(keep, len(tokens), PREFILL_CHUNK):
            cancel.raise_if_cancelled()
            chunk = list(tokens[begin : begin + PREFILL_CHUNK])
            model.prompt_tokens_evaluated += len(chunk)
            if begin + PREFILL_CHUNK < len(tokens):
                # Not the last chunk: the next request most likely shares this part of the
                # prompt, so a cancel lets it finish (<= one chunk) rather than throw it away.
                with model.abort.held():
                    _decode(model, chunk)
            else:
                _decode(model, chunk)
    finally:
        stats.prompt_ms = (time.perf_counter() - start) * 1000


DECODE_ABORTED = 2  # llama_decode: the abort callback fired; the batch was taken back out


def _decode(model: LoadedModel, chunk: list[int], logits_all: bool = False) -> None:
    """Decode `chunk` at the end of the KV cache (logits: last token's, or all).

    Raises Cancelled when the job's cancel aborted the decode part-way: the cache then holds
    what it held before this chunk.
    """
    while True:
        model.batch.set_batch(chunk, n_past=len(model.kv), logits_all=logits_all)
        began = time.perf_counter()
        status = llama_cpp.llama_decode(model.context.ctx, model.batch.batch)
        model.llama_ms += (time.perf_counter() - began) * 1000
        if status != DECODE_ABORTED:
            break
        if not model.abort.stale():
            raise Cancelled
    if status != 0:
        # A failed decode leaves the cache in an unknown state: forget it entirely.
        model.kv.clear()
        raise RuntimeError(f"llama_decode returned {status}")
    model.kv.appended(chunk)


def _sample(model: LoadedModel, sampler: _internals.LlamaSampler, index: int) -> int:
    """The sampler chain's token for output `index` (timed as llama.cpp work)."""
    began = time.perf_counter()
    token = sampler.sample(model.context, index)
    model.llama_ms += (time.perf_counter() - began) * 1000
    return token


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


MAX_DRAFT = 6  # draft tokens verified per step; measured batch cost: 4 tokens ~1.7x one
DRAFT_TOKEN_COST = 0.2  # token-times each draft token adds to a decode step
DRAFT_MIN_STEPS = 6  # no drafting when the deadline leaves fewer token-times than this


class _Emitter:
    """Turns accepted tokens into text and applies the stop rules."""

    def __init__(self, model: LoadedModel, stop_rules: Sequence[StopRule], stats: GenerationStats):
        self.model = model
        self.stop_rules = stop_rules
        self.stats = stats
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text = ""

    def emit(self, token: int) -> bool:
        """Add `token`; True when generation must stop here."""
        if self.model.is_eog(token):
            self.stats.stop_reason = StopReason.EOG
            return True
        self.stats.generated_tokens += 1
        self.text += self.decoder.decode(self.model.piece(token))
        cut = first_cut(self.stop_rules, self.text)
        if cut is not None:
            self.text = self.text[:cut]
            self.stats.stop_reason = StopReason.STOP_RULE
            return True
        return False


def generate(
    model: LoadedModel,
    prompt: Sequence[int],
    params: GenerationParams,
    stop_rules: Sequence[StopRule],
    cancel: CancelToken,
) -> tuple[str, GenerationStats]:
    """Decode up to `params.max_tokens` tokens after `prompt`; returns (text, stats).

    With `params.deadline` (an Automatic request), decoding stops once some visible text is
    out and the next step would end after the deadline (the engine's measured step time).
    Cancellation is checked before every decode step and polled by llama.cpp inside one
    (abort.py): a cancelled job stops within a graph node, not a whole token.
    With `params.speculative` (greedy only), prompt-lookup drafts are verified in one batch: the
    output is the same as plain greedy decoding, in fewer decode calls when code repeats.
    """
    stats = GenerationStats()
    model.abort.arm(cancel)
    llama_before = model.llama_ms
    try:
        return _generate(model, prompt, params, stop_rules, cancel, stats)
    finally:
        model.abort.disarm()
        stats.llama_ms = model.llama_ms - llama_before


def _generate(
    model: LoadedModel,
    prompt: Sequence[int],
    params: GenerationParams,
    stop_rules: Sequence[StopRule],
    cancel: CancelToken,
    stats: GenerationStats,
) -> tuple[str, GenerationStats]:
    try:
        evaluate_prompt(model, prompt, cancel, stats, params)
    except Cancelled:
        stats.stop_reason = StopReason.CANCELLED
        return "", stats
    sampler = make_sampler(params)
    emitter = _Emitter(model, stop_rules, stats)
    budget = max(0, min(params.max_tokens, model.n_ctx - len(model.kv) - MAX_DRAFT - 1))
    # A short answer under a deadline drafts nothing: a verify step costs more than a token
    # and is slower to abort (one big output node), and a few tokens rarely repeat the prompt.
    short = params.deadline is not None and not model.speed.step_fits(
        params.deadline, time.perf_counter(), DRAFT_MIN_STEPS
    )
    drafting = params.speculative and params.temperature <= 0 and not short
    lookup = NgramIndex(list(prompt)) if drafting else None
    draft_limit, misses = MAX_DRAFT, 0
    start = time.perf_counter()
    stats.stop_reason = StopReason.MAX_TOKENS
    try:
        token = _sample(model, sampler, -1)
        while stats.generated_tokens < budget:
            if emitter.emit(token):
                break
            if cancel.cancelled:
                stats.stop_reason = StopReason.CANCELLED
                break
            if stats.generated_tokens >= budget:
                break
            draft: list[int] = []
            if lookup is not None:
                lookup.append(token)
                draft = lookup.draft(min(draft_limit, budget - stats.generated_tokens))
            if params.deadline is not None and emitter.text.strip():
                cost = 1 + DRAFT_TOKEN_COST * len(draft)
                if not model.speed.step_fits(params.deadline, time.perf_counter(), cost):
                    stats.stop_reason = StopReason.DEADLINE
                    break
            if not draft:
                step_began = time.perf_counter()
                _decode(model, [token])
                model.speed.record_step((time.perf_counter() - step_began) * 1000)
                token = _sample(model, sampler, -1)
                continue
            accepted_before = stats.draft_accepted
            verified = _verify(model, sampler, token, draft, emitter, lookup, stats)
            if verified is None:
                break
            token = verified
            # Drafts cost DRAFT_TOKEN_COST each to verify: grow them while they are right,
            # shrink them when wrong, and stop drafting for text that does not repeat.
            accepted = stats.draft_accepted - accepted_before
            draft_limit = (
                min(MAX_DRAFT, draft_limit * 2) if accepted == len(draft) else max(1, accepted)
            )
            misses = misses + 1 if accepted == 0 else 0
            if misses >= 2:
                lookup = None
    except Cancelled:  # aborted inside a decode
        stats.stop_reason = StopReason.CANCELLED
    finally:
        stats.generate_ms = (time.perf_counter() - start) * 1000
        sampler.close()
    return emitter.text, stats


def _verify(
    model: LoadedModel,
    sampler: _internals.LlamaSampler,
    token: int,
    draft: list[int],
    emitter: _Emitter,
    lookup: NgramIndex | None,
    stats: GenerationStats,
) -> int | None:
    """Decode `token` + `draft` in one batch; keep the draft tokens greedy decoding agrees with.

    Returns the next token to emit (the first disagreement's greedy choice, or the token after
    a fully accepted draft), or None when a stop fired inside the draft.
    """
    position = len(model.kv)
    _decode(model, [token, *draft], logits_all=True)
    stats.draft_tokens += len(draft)
    accepted = 0
    next_token: int | None = None
    for index, guess in enumerate(draft):
        predicted = _sample(model, sampler, index)
        if predicted != guess:
            next_token = predicted
            break
        accepted += 1
        stats.draft_accepted += 1
        if lookup is not None:
            lookup.append(guess)
        if emitter.emit(guess):
            break
    else:
        next_token = _sample(model, sampler, len(draft))
    keep = position + 1 + accepted
    model.kv.truncate(keep)  # drop the rejected draft
    if next_token is None:  # a stop fired on an accepted draft token
        return None
    return next_token
