"""How big a prompt a request gets: the largest of the full one and the smaller tiers whose
part not in the KV cache its time budget pays for (`sized_prompt`), built for a token limit
(`prompt_for`) with a trailing space healed (`heal_trailing_space`, `healed_rule`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from smallcode_lsp.completion.plan import CompletionPlan
from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.engine.base import CompletionModel
from smallcode_lsp.engine.prompt import PromptFormat, build_prompt
from smallcode_lsp.engine.stops import StopRule
from smallcode_lsp.types import CompletionRequest, PromptParts, Trigger

SUFFIX_SHARE = 4  # the suffix gets at most 1/4 of the prompt budget (llama-server /infill too)
MAX_PROMPT_TOKENS = 2048  # prefill on 2 cores: ~500 tokens/s; more context costs a cold start
# Smaller prompts for spots the cache has not seen: the largest whose uncached part the time
# budget can pay for at the measured prompt speed is used, and the full one grown in the
# background (prefetcher.py). Fixed sizes, so each keeps a stable window start (builder.py).
PROMPT_TIERS = (1024, 512, 256)
PROMPT_SHARE = 0.75  # of the time budget for the prompt; the rest decodes the answer
WARM_PROMPT_SHARE = 0.5  # a spot is warm when what is not cached costs at most this share


# -- token healing for a trailing space -----------------------------------------------------------


def heal_trailing_space(parts: PromptParts) -> tuple[PromptParts, str]:
    """Move spaces the user typed after code out of the prompt.

    BPE vocabularies attach a space to the word after it (" operator"), so a prompt ending in
    a bare space token is off-distribution and small models answer with a newline. The model
    sees the prefix without the spaces and must generate them; they are cut from the answer.
    """
    prefix = parts.prefix
    stripped = prefix.rstrip(" \t")
    line = stripped[stripped.rfind("\n") + 1 :]
    if stripped == prefix or not line.strip():
        return parts, ""  # no trailing space, or only indentation (a token of its own)
    return replace(parts, prefix=stripped), prefix[len(stripped) :]


def healed_rule(rule: StopRule, heal: str) -> StopRule:
    """A stop rule judging the text after the healed spaces (cut indices stay in `text`)."""

    def check(text: str) -> int | None:
        if text.startswith(heal):
            cut = rule(text[len(heal) :])
            return None if cut is None else cut + len(heal)
        if heal.startswith(text):
            return None  # still generating the healed spaces
        return rule(text)

    return check


# -- prompt tiers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizedPrompt:
    """A prompt built for a token limit: its parts, the healed spaces and its tokens."""

    parts: PromptParts
    heal: str
    tokens: list[int]
    limit: int  # the token budget it was built for


def prompt_for(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    sources: ContextSources,
    parsed: ParsedDocument | None,
    limit: int,
) -> SizedPrompt:
    """The prompt for `request` within `limit` tokens (a quarter for the suffix, FIM models)."""
    suffix_budget = limit // SUFFIX_SHARE if model.fim.available and plan.use_fim else 0
    parts = plan.parts(request, parsed, model, sources, limit - suffix_budget, suffix_budget)
    parts, heal = heal_trailing_space(parts)
    fmt = PromptFormat(fim=model.fim, bos=model.bos, add_bos=model.add_bos, use_fim=plan.use_fim)
    return SizedPrompt(parts, heal, build_prompt(parts, fmt, model.blocks.tokenize), limit)


def full_limit(model: CompletionModel, plan: CompletionPlan) -> int:
    """Tokens of the full prompt: what the context holds besides the answer."""
    return min(MAX_PROMPT_TOKENS, model.n_ctx - plan.params.max_tokens - 8)


def sized_prompt(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    sources: ContextSources,
    parsed: ParsedDocument | None,
) -> SizedPrompt:
    """The largest prompt whose part not in the KV cache fits the request's time budget.

    The budget is the configured one (not the typing cadence's share of a keystroke): prompt
    work done for a keystroke is kept for the next (generate.py), so a cold spot is paid once.
    """
    full = full_limit(model, plan)
    if request.trigger is Trigger.INVOKED:
        budget_ms = plan.invoked_budget_ms
    else:
        budget_ms = plan.latency_budget_ms
    prompt = prompt_for(model, request, plan, sources, parsed, full)
    if budget_ms <= 0:
        return prompt
    affordable = model.speed.prompt_tokens_within(budget_ms * PROMPT_SHARE)
    uri = request.document.uri
    smaller = [limit for limit in PROMPT_TIERS if limit < full]
    last = sources.prompt_limits.get(uri)
    if last in smaller:  # where the last request here ended: most likely again
        smaller.remove(last)
        smaller.insert(0, last)
    chosen, smallest = prompt, prompt
    while len(chosen.tokens) - model.shared_prefix(chosen.tokens) > affordable:
        if not smaller:
            chosen = smallest  # nothing fits: the smallest costs least
            break
        chosen = prompt_for(model, request, plan, sources, parsed, smaller.pop(0))
        smallest = min(smallest, chosen, key=lambda p: p.limit)
    sources.prompt_limits[uri] = chosen.limit
    return chosen


def answer_deadline(
    model: CompletionModel, request: CompletionRequest, tokens: Sequence[int]
) -> tuple[float | None, bool]:
    """(deadline, finish the line at it): the request's own, or at a warm spot the sooner one
    its next key is due by (a fragment lands in time; type-ahead and prefetch extend it). Not
    at a cold spot: there the prompt is what costs, and its chunks are kept for the next key."""
    due = request.warm_deadline
    if due is not None:
        uncached = len(tokens) - model.shared_prefix(tokens)
        left_ms = (due - time.perf_counter()) * 1000
        if uncached <= model.speed.prompt_tokens_within(left_ms * WARM_PROMPT_SHARE):
            return due, False
    return request.deadline, request.finish_line
