"""Prompt evaluation with KV-cache prefix reuse, and the token-by-token decode loop.

The loop is functions over a `LoadedModel` (model.py), which never knows it (as mlx-lm's
`generate_step` over a model and its cache); `LocalModel` at the end joins the two into the
pipeline's `CompletionModel`.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import llama_cpp
from llama_cpp import _internals

from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.deadline import LINE_AFTER_OVERRUN_MS, answer_deadline
from smallcode_lsp.engine.local.kv_cache import KVCache
from smallcode_lsp.engine.local.lookup import CachedAnswer, NgramIndex
from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.engine.stops import StopRule, first_cut, first_line_end
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason

# A user job's prompt is decoded in large batches (llama.cpp's throughput grows with the batch:
# on 2 cores ~206 tokens/s at 32, ~280 at 512), and a cancel lets the batch in progress finish:
# the newer keystroke's prompt shares everything but its last few tokens, so prefill work at a
# cold spot accumulates over the keystrokes that interrupt it. Only the last PREFILL_TAIL
# tokens (what the next keystroke changes) are decoded apart and abort at once (abort.py): a
# longer abortable tail would be cut by every key of a burst and never finish.
PREFILL_CHUNK = 256
PREFILL_TAIL = 4
# Background jobs yield to the user: their chunks abort at once, so they are small (a
# preempted chunk is decoded again later).
BACKGROUND_CHUNK = 64


def evaluate_prompt(
    model: LoadedModel,
    kv: KVCache,
    tokens: Sequence[int],
    cancel: CancelToken,
    stats: GenerationStats,
    params: GenerationParams,
) -> None:
    """Make `kv` hold `tokens`, decoding only what differs from what is cached.

    Beyond the common prefix, cached chunks of at least `params.shift_chunk` tokens that
    reappear after deleted text are shifted into place instead of decoded again (0: off). On
    return the logits of the last prompt token are ready for sampling. A cancel leaves the
    cache consistent (it holds the part decoded so far) so the next request still reuses it.
    """
    if not tokens:
        raise ValueError("empty prompt")
    if params.reuse:
        keep, stats.prompt_tokens_shifted = kv.reuse(tokens, params.shift_chunk)
    else:
        keep = kv.truncate(0)
    stats.prompt_tokens = len(tokens)
    stats.prompt_tokens_reused = keep
    stats.prompt_tokens_evaluated = len(tokens) - keep
    size = BACKGROUND_CHUNK if params.background else PREFILL_CHUNK
    held_end = keep if params.background else len(tokens) - PREFILL_TAIL
    start = time.perf_counter()
    try:
        begin = keep
        while begin < len(tokens):
            cancel.raise_if_cancelled()
            end = min(len(tokens), begin + size)
            if begin < held_end:
                end = min(end, held_end)
            chunk = list(tokens[begin:end])
            model.prompt_tokens_evaluated += len(chunk)
            chunk_began = time.perf_counter()
            if end <= held_end:
                with model.abort.held():
                    _decode(model, kv, chunk)
            else:
                _decode(model, kv, chunk)
            if not params.background:
                # Prompt sizing budgets a user's prompt, decoded in PREFILL_CHUNK batches:
                # background chunks are smaller and slower (2 cores: ~500 against ~630
                # tokens/s), and counting them shrank the prompts after every warm-up.
                model.speed.record_prefill(len(chunk), (time.perf_counter() - chunk_began) * 1000)
            begin = end
    finally:
        stats.prompt_ms = (time.perf_counter() - start) * 1000


DECODE_ABORTED = 2  # llama_decode: the abort callback fired; the batch was taken back out


def _fill_batch(model: LoadedModel, kv: KVCache, chunk: list[int], logits_all: bool) -> None:
    """`chunk` at the end of `kv`'s sequence (llama-cpp-python's set_batch knows seq 0 only)."""
    batch = model.batch.batch
    batch.n_tokens = len(chunk)
    position = len(kv)
    for i, token in enumerate(chunk):
        batch.token[i] = token
        batch.pos[i] = position + i
        batch.seq_id[i][0] = kv.seq
        batch.n_seq_id[i] = 1
        batch.logits[i] = logits_all
    batch.logits[len(chunk) - 1] = True


def _decode(model: LoadedModel, kv: KVCache, chunk: list[int], logits_all: bool = False) -> None:
    """Decode `chunk` at the end of `kv` (logits: last token's, or all).

    Raises Cancelled when the job's cancel aborted the decode part-way: the cache then holds
    what it held before this chunk.
    """
    while True:
        _fill_batch(model, kv, chunk, logits_all)
        began = time.perf_counter()
        status = llama_cpp.llama_decode(model.context.ctx, model.batch.batch)
        model.llama_ms += (time.perf_counter() - began) * 1000
        if status != DECODE_ABORTED:
            break
        if not model.abort.stale():
            raise Cancelled
    if status != 0:
        # A failed decode leaves the cache in an unknown state: forget it entirely.
        model.clear_cache()
        raise RuntimeError(f"llama_decode returned {status}")
    kv.appended(chunk)


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
# An earlier answer after the same prompt (lookup.CachedAnswer) is nearly always repeated:
# verified in batches this long, it costs a prefill's rate, not a decode step per token.
CACHED_ANSWER_DRAFT = 32


class _Emitter:
    """Turns accepted tokens into text and applies the stop rules."""

    def __init__(
        self,
        model: LoadedModel,
        stop_rules: Sequence[StopRule],
        stats: GenerationStats,
        line_only: bool = False,
    ) -> None:
        self.model = model
        self.stop_rules = stop_rules
        self.stats = stats
        self.line_only = line_only  # stop at the end of the first line with text
        self.line_from = 0  # ... the line being written when the deadline came
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
        if self.line_only:
            end = first_line_end(self.text, self.line_from)
            if end is not None:
                self.text = self.text[:end]
                self.stats.stop_reason = StopReason.DEADLINE  # the model has more to say
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
    with _job_cache(model, prompt, params, cancel, stats) as kv:
        return _generate(model, kv, prompt, params, stop_rules, cancel, stats)


@contextmanager
def _job_cache(
    model: LoadedModel,
    prompt: Sequence[int],
    params: GenerationParams,
    cancel: CancelToken,
    stats: GenerationStats,
) -> Iterator[KVCache]:
    """The cache a job works in (room made for its prompt and answer), with `cancel` armed
    to abort llama_decode and the job's llama.cpp time counted into `stats`."""
    kv, stats.prompt_restored = model.cache_for(prompt)
    model.touch(kv)
    model.make_room(kv, len(prompt) + params.max_tokens + MAX_DRAFT + 1)
    model.abort.arm(cancel)
    llama_before = model.llama_ms
    try:
        yield kv
    finally:
        model.abort.disarm()
        stats.llama_ms = model.llama_ms - llama_before
        stats.parked_bytes = model.parking.bytes


def prefill(
    model: LoadedModel, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
) -> GenerationStats:
    """Evaluate `prompt` into a cache without generating: a larger prompt grown in the
    background, for later requests at the same spot. A cancel keeps the chunks done."""
    stats = GenerationStats(stop_reason=StopReason.MAX_TOKENS)
    with _job_cache(model, prompt, params, cancel, stats) as kv:
        try:
            evaluate_prompt(model, kv, prompt, cancel, stats, params)
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
    return stats


def _generate(
    model: LoadedModel,
    kv: KVCache,
    prompt: Sequence[int],
    params: GenerationParams,
    stop_rules: Sequence[StopRule],
    cancel: CancelToken,
    stats: GenerationStats,
) -> tuple[str, GenerationStats]:
    cached = _cached_answer(kv, prompt, params)  # read before the prompt's reuse drops it
    try:
        evaluate_prompt(model, kv, prompt, cancel, stats, params)
    except Cancelled:
        stats.stop_reason = StopReason.CANCELLED
        return "", stats
    deadline, overran = answer_deadline(
        params.deadline, time.perf_counter(), model.speed, params.finish_line
    )
    sampler = make_sampler(params)
    emitter = _Emitter(model, stop_rules, stats, line_only=overran)
    used = sum(len(cache) for cache in model.caches)
    budget = max(0, min(params.max_tokens, model.n_ctx - used - MAX_DRAFT - 1))
    # A short answer under a deadline drafts nothing: a verify step costs more than a token
    # and is slower to abort (one big output node), and a few tokens rarely repeat the prompt.
    short = deadline is not None and not model.speed.step_fits(
        deadline, time.perf_counter(), DRAFT_MIN_STEPS
    )
    drafting = params.speculative and params.temperature <= 0 and not short
    lookup = NgramIndex(list(prompt)) if drafting else None
    drafts = _Drafts(lookup, cached)
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
            drafts.append(token)
            room = budget - stats.generated_tokens
            draft = drafts.draft(min(draft_limit, room), min(CACHED_ANSWER_DRAFT, room))
            if deadline is not None and emitter.text.strip():
                if drafts.repeating:  # a shorter batch of the earlier answer may still fit
                    while draft and not model.speed.step_fits(
                        deadline, time.perf_counter(), 1 + DRAFT_TOKEN_COST * len(draft)
                    ):
                        draft = draft[: len(draft) // 2]
                cost = 1 + DRAFT_TOKEN_COST * len(draft)
                if not model.speed.step_fits(deadline, time.perf_counter(), cost):
                    if not params.finish_line or emitter.line_only:
                        stats.stop_reason = StopReason.DEADLINE
                        break
                    # Not a fragment: the rest of this line, within the same cap as an
                    # overrun prompt's answer.
                    emitter.line_only = True
                    emitter.line_from = emitter.text.rfind("\n") + 1
                    deadline = time.perf_counter() + LINE_AFTER_OVERRUN_MS / 1000
            if not draft:
                step_began = time.perf_counter()
                _decode(model, kv, [token])
                model.speed.record_step((time.perf_counter() - step_began) * 1000)
                token = _sample(model, sampler, -1)
                continue
            accepted_before = stats.draft_accepted
            repeating = drafts.repeating
            verified = _verify(model, kv, sampler, token, draft, emitter, drafts, stats)
            if repeating:
                stats.cached_answer_accepted += stats.draft_accepted - accepted_before
            if verified is None:
                break
            token = verified
            if repeating:
                continue  # the lookup's draft size is its own
            # Drafts cost DRAFT_TOKEN_COST each to verify: grow them while they are right,
            # shrink them when wrong, and stop drafting for text that does not repeat.
            accepted = stats.draft_accepted - accepted_before
            draft_limit = (
                min(MAX_DRAFT, draft_limit * 2) if accepted == len(draft) else max(1, accepted)
            )
            misses = misses + 1 if accepted == 0 else 0
            if misses >= 2:
                drafts.lookup = None
    except Cancelled:  # aborted inside a decode
        stats.stop_reason = StopReason.CANCELLED
    finally:
        stats.generate_ms = (time.perf_counter() - start) * 1000
        sampler.close()
    return emitter.text, stats


def _cached_answer(kv: KVCache, prompt: Sequence[int], params: GenerationParams) -> CachedAnswer:
    """The tokens `kv` holds after the whole of `prompt`: an earlier greedy answer to it (a
    prompt that was longer is verified too, and parts at once). Sampling repeats nothing."""
    if params.temperature > 0 or not params.reuse or len(kv) <= len(prompt):
        return CachedAnswer([])
    if kv.shared_prefix(prompt) < len(prompt):
        return CachedAnswer([])
    return CachedAnswer(list(kv.tokens[len(prompt) :]))


class _Drafts:
    """Where a decode step's draft comes from: the earlier answer cached after this prompt
    while the new one repeats it, else prompt lookup (None: not drafting)."""

    def __init__(self, lookup: NgramIndex | None, cached: CachedAnswer) -> None:
        self.lookup = lookup
        self.cached = cached

    @property
    def repeating(self) -> bool:
        return bool(self.cached.draft(1))

    def append(self, token: int) -> None:
        self.cached.append(token)
        if self.lookup is not None:
            self.lookup.append(token)

    def draft(self, lookup_limit: int, cached_limit: int) -> list[int]:
        if (draft := self.cached.draft(cached_limit)) or self.lookup is None:
            return draft
        return self.lookup.draft(lookup_limit)


def _verify(
    model: LoadedModel,
    kv: KVCache,
    sampler: _internals.LlamaSampler,
    token: int,
    draft: list[int],
    emitter: _Emitter,
    drafts: _Drafts,
    stats: GenerationStats,
) -> int | None:
    """Decode `token` + `draft` in one batch; keep the draft tokens greedy decoding agrees with.

    Returns the next token to emit (the first disagreement's greedy choice, or the token after
    a fully accepted draft), or None when a stop fired inside the draft.
    """
    position = len(kv)
    _decode(model, kv, [token, *draft], logits_all=True)
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
        drafts.append(guess)
        if emitter.emit(guess):
            break
    else:
        next_token = _sample(model, sampler, len(draft))
    keep = position + 1 + accepted
    kv.truncate(keep)  # drop the rejected draft
    if next_token is None:  # a stop fired on an accepted draft token
        return None
    return next_token


class LocalModel(LoadedModel):
    """The in-process `CompletionModel` (base.py): a LoadedModel run by this module's loop."""

    def generate(
        self,
        prompt: Sequence[int],
        params: GenerationParams,
        stop_rules: Sequence[StopRule],
        cancel: CancelToken,
    ) -> tuple[str, GenerationStats]:
        return generate(self, prompt, params, stop_rules, cancel)

    def prefill(
        self, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
    ) -> GenerationStats:
        return prefill(self, prompt, params, cancel)
