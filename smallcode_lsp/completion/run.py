"""Running one completion on the engine's thread: the answer (`run_completion`, and for an
Invoked request the other shape too: `run_alternatives`), and the background prefills
(`grow_prompt`, `warm_prompt`)."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from smallcode_lsp.completion.plan import CompletionPlan
from smallcode_lsp.completion.sizing import (
    SizedPrompt,
    answer_deadline,
    full_limit,
    healed_rule,
    prompt_for,
    sized_prompt,
)
from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import Shape
from smallcode_lsp.engine.base import CompletionModel
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.safety.lint import lint
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    GenerationStats,
    PromptParts,
    StopReason,
    Trigger,
)

# The package's name, not this module's: log lines keep their source across moves inside it.
log = logging.getLogger("smallcode_lsp.completion")

PROTECTED_SHARE = 0.9  # background work keeps at least this share of the cached prompt


def _parsed_for(request: CompletionRequest, parsed: ParsedDocument | None) -> ParsedDocument:
    doc = request.document
    if parsed is not None and parsed.text == doc.text:
        return parsed
    return ParsedDocument(doc.text, doc.language_id, doc.path)


def context_files(parts: PromptParts) -> tuple[tuple[str, str], ...]:
    """The snippets as (path, text), in prompt order, for engines that assemble prompts."""
    return tuple((snippet.path, snippet.text) for snippet in parts.snippets)


def run_completion(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    cancel: CancelToken,
    sources: ContextSources,
    parsed: ParsedDocument | None = None,
    shape: Shape | None = None,
    protect_cache: bool = False,
) -> Completion:
    """Generate one completion for `request` (on the engine's thread).

    With `protect_cache` (background prefetch), give up rather than replace most of a KV
    cache: a prompt whose front differs would make the user's next request decode it all again.
    """
    began = time.perf_counter()
    if plan.parses:
        parsed = _parsed_for(request, parsed)
    if shape is None:
        shape = plan.shape(request, parsed)
    prompt = sized_prompt(model, request, plan, sources, parsed)
    parts, heal, tokens = prompt.parts, prompt.heal, prompt.tokens
    prepare_ms = (time.perf_counter() - began) * 1000
    if protect_cache:
        cache = model.pick_cache(tokens)
        shared = cache.shared_prefix(tokens)
        if shared < len(cache) * PROTECTED_SHARE:
            log.info("prefetch skipped: it would replace %d cached tokens", len(cache) - shared)
            return Completion("", GenerationStats(stop_reason=StopReason.CANCELLED))
    rules = plan.stop_rules(request, parsed, shape)
    rules = [healed_rule(rule, heal) for rule in rules] if heal else rules
    deadline, finish_line = answer_deadline(model, request, tokens)
    params = replace(
        plan.params,
        single_line=shape.single_line,
        deadline=deadline,  # set by the scheduler on Automatic requests only
        finish_line=finish_line,
        background=protect_cache,
        context_files=context_files(parts),
    )
    text, stats = model.generate(tokens, params, rules, cancel)
    stats.prepare_ms = prepare_ms
    stats.prompt_limit = prompt.limit
    stats.prompt_shrunk = prompt.limit < full_limit(model, plan)
    if stats.stop_reason is StopReason.CANCELLED and not text.strip():
        if not protect_cache:
            log.info(
                "completion cancelled: %d prompt tokens (%d evaluated, %d restored), "
                "%d generated, %.0f (context) + %.0f (prompt) + %.0f (decode) ms",
                stats.prompt_tokens,
                stats.prompt_tokens_evaluated,
                stats.prompt_restored,
                stats.generated_tokens,
                prepare_ms,
                stats.prompt_ms,
                stats.generate_ms,
            )
        return Completion("", stats, parts.snippets)
    # Work stopped part-way keeps what it made: the start of the model's answer at this spot,
    # for the type-ahead cache (the key that cancelled a user request often types along it).
    post_began = time.perf_counter()
    if heal:
        text = text[len(heal) :] if text.startswith(heal) else text.lstrip(" \t")
    # A deadline or a preemption cuts an answer that will be continued (prefetch, typing
    # along): its last line is a fragment to keep. At the token limit the answer is judged
    # whole and cut back to clean lines, as an explicit request expects.
    truncated = stats.stop_reason in (StopReason.DEADLINE, StopReason.CANCELLED)
    final = plan.finish(text, request, parsed, shape, truncated)
    if plan.security_lint and final:
        findings = lint(final, request.document.language_id)
        if findings:
            log.info("security lint dropped a suggestion: %s", ", ".join(f.rule for f in findings))
            final = ""
    stats.post_ms = (time.perf_counter() - post_began) * 1000
    log.info(
        "completion (%s): %d prompt tokens (%d evaluated, %d shifted), %d generated "
        "(%d/%d drafts accepted), %s, %.0f (context) + %.0f (prompt) + %.0f (decode) ms",
        shape.kind,
        stats.prompt_tokens,
        stats.prompt_tokens_evaluated,
        stats.prompt_tokens_shifted,
        stats.generated_tokens,
        stats.draft_accepted,
        stats.draft_tokens,
        stats.stop_reason.value,
        prepare_ms,
        stats.prompt_ms,
        stats.generate_ms,
    )
    return Completion(final, stats, parts.snippets)


def other_shape(shape: Shape) -> Shape:
    """The alternative an Invoked request adds: the whole block instead of the line, or back."""
    if shape.single_line:
        return Shape(False, shape.indent, "block", shape.block_indent, "alternative: block")
    return Shape(True, shape.indent, "line", shape.block_indent, "alternative: line")


def run_alternatives(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    cancel: CancelToken,
    sources: ContextSources,
    parsed: ParsedDocument | None = None,
    protect_cache: bool = False,
) -> list[Completion]:
    """Automatic: one completion. Invoked: also the other shape (line vs block), deduplicated."""
    if plan.notes_cursor:
        sources.note_cursor(request)
    if plan.parses:
        parsed = _parsed_for(request, parsed)
    first_shape = plan.shape(request, parsed)
    results = [
        run_completion(model, request, plan, cancel, sources, parsed, first_shape, protect_cache)
    ]
    if request.trigger is Trigger.INVOKED and plan.invoked_items > 1 and not cancel.cancelled:
        alternative = other_shape(first_shape)
        results.append(run_completion(model, request, plan, cancel, sources, parsed, alternative))
    seen: set[str] = set()
    unique = []
    for completion in results:
        if completion.text and completion.text not in seen:
            seen.add(completion.text)
            unique.append(completion)
    return unique or results[:1]


def grow_prompt(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    cancel: CancelToken,
    sources: ContextSources,
    parsed: ParsedDocument | None = None,
) -> GenerationStats:
    """Evaluate the full prompt for `request` into a cache, generating nothing: after an
    answer from a smaller prompt, later requests at this spot get the whole context."""
    parsed = _parsed_for(request, parsed) if plan.parses else None
    prompt = prompt_for(model, request, plan, sources, parsed, full_limit(model, plan))
    return _prefill(model, prompt, plan, cancel, "grown prompt")


def _prefill(
    model: CompletionModel,
    prompt: SizedPrompt,
    plan: CompletionPlan,
    cancel: CancelToken,
    what: str,
) -> GenerationStats:
    """Evaluate `prompt` into a cache in the background (preemptible chunks), logged."""
    params = replace(plan.params, background=True, context_files=context_files(prompt.parts))
    stats = model.prefill(prompt.tokens, params, cancel)
    log.info(
        "%s: %d tokens (%d evaluated), %s",
        what,
        stats.prompt_tokens,
        stats.prompt_tokens_evaluated,
        stats.stop_reason.value,
    )
    return stats


def warm_prompt(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    cancel: CancelToken,
    sources: ContextSources,
    parsed: ParsedDocument | None = None,
) -> list[Completion]:
    """The cursor rests at `request`'s spot and nothing is typed yet: evaluate the prompt the
    first keystroke there will pick (built as that keystroke's will be: same front, same window
    start, so the key changes only the last tokens), answer from it (the caller keeps the
    answer for type-ahead: typing along it costs nothing), then evaluate the full prompt and
    answer again from it (a rest long enough for both gets the whole context's answer).
    Preempted, a prefill keeps the chunks it finished and an answer cut short what it made
    (the key that preempted it waits for it: service.py)."""
    if plan.notes_cursor:
        sources.note_cursor(request)  # as the keystroke's run_alternatives will
    parsed = _parsed_for(request, parsed) if plan.parses else None
    first = sized_prompt(model, request, plan, sources, parsed)
    stats = _prefill(model, first, plan, cancel, "warmed the resting spot")
    if stats.stop_reason is StopReason.CANCELLED:
        return []
    answer = run_completion(model, request, plan, cancel, sources, parsed)
    if not cancel.cancelled and first.limit < full_limit(model, plan):
        grown = grow_prompt(model, request, plan, cancel, sources, parsed)
        if grown.stop_reason is not StopReason.CANCELLED and not cancel.cancelled:
            # A long rest: the whole prompt is cached now, so the answer from it costs only its
            # decode; it replaces the small prompt's unless the key cut it first.
            better = run_completion(model, request, plan, cancel, sources, parsed)
            if better.text and better.stats.stop_reason is not StopReason.CANCELLED:
                answer = better
    return [answer] if answer.text else []
