"""One completion: request -> prompt -> engine -> post-processing. Runs on the engine worker.

The same code serves the LSP handlers, `smallcode-lsp complete`, the benchmarks and the eval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.generate import SHIFT_MIN_CHUNK, common_prefix_length, generate
from smallcode_lsp.engine.model import LoadedModel
from smallcode_lsp.engine.prompt import PromptFormat, build_prompt
from smallcode_lsp.engine.stops import StopRule, make_block_stop, stop_at_line_end
from smallcode_lsp.options import Settings
from smallcode_lsp.prompt_window import prefix_window, suffix_window
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    GenerationParams,
    PromptParts,
    StopReason,
    Trigger,
)

log = logging.getLogger(__name__)

SUFFIX_SHARE = 4  # the suffix gets at most 1/4 of the prompt budget (llama-server /infill too)
MAX_PROMPT_TOKENS = 2048  # prefill on 2 cores: ~500 tokens/s; more context costs a cold start


@dataclass(frozen=True)
class Shape:
    """How much to generate: the rest of the line, or a block."""

    single_line: bool
    line_prefix: str  # text of the cursor's line before the cursor


def decide_shape(request: CompletionRequest) -> Shape:
    """Mid-line: finish the line. On an empty line or after a block opener: a block."""
    prefix = request.prefix
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    line_suffix = request.suffix.split("\n", 1)[0]
    opener = line_prefix.rstrip().endswith((":", "{", "(", "["))
    blank_line = not line_prefix.strip()
    single = bool(line_suffix.strip()) or not (blank_line or opener)
    return Shape(single_line=single, line_prefix=line_prefix)


def stop_rules_for(shape: Shape) -> list[StopRule]:
    if shape.single_line:
        return [stop_at_line_end]
    return [make_block_stop(shape.line_prefix)]


def prompt_parts(request: CompletionRequest, model: LoadedModel, max_tokens: int) -> PromptParts:
    budget = min(MAX_PROMPT_TOKENS, model.n_ctx - max_tokens - 8)
    fim = model.fim.available
    suffix_budget = budget // SUFFIX_SHARE if fim else 0
    doc = request.document
    return PromptParts(
        prefix=prefix_window(request.prefix, budget - suffix_budget, model.count_tokens),
        suffix=suffix_window(request.suffix, suffix_budget, model.count_tokens) if fim else "",
        file_path=doc.path.rsplit("/", 1)[-1] if doc.path else None,
        language_id=doc.language_id,
    )


def postprocess(text: str, request: CompletionRequest, shape: Shape) -> str:
    """Cut what would be wrong to insert: trailing space, text the suffix already has."""
    text = text.rstrip()
    if not text.strip():
        return ""
    line_suffix = request.suffix.split("\n", 1)[0].strip()
    if line_suffix and shape.single_line:
        # The model often re-types the closing brackets that follow the cursor.
        first_line = text.split("\n", 1)[0]
        if first_line.endswith(line_suffix):
            text = first_line[: len(first_line) - len(line_suffix)].rstrip()
    next_line = request.suffix.split("\n", 2)[1].strip() if request.suffix.count("\n") >= 1 else ""
    if next_line and text.strip() == next_line:  # would duplicate the line below
        return ""
    return text


def run_completion(
    model: LoadedModel,
    request: CompletionRequest,
    settings: Settings,
    cancel: CancelToken,
    shape: Shape | None = None,
) -> Completion:
    """Generate one completion for `request` (on the engine worker thread)."""
    shape = shape or decide_shape(request)
    parts = prompt_parts(request, model, settings.max_tokens)
    fmt = PromptFormat(
        fim=model.fim, bos=model.bos, add_bos=model.add_bos, use_fim=settings.use_fim
    )
    tokens = build_prompt(parts, fmt, model.tokenize)
    max_tokens = settings.max_tokens
    if request.trigger is Trigger.AUTOMATIC and settings.latency_budget_ms > 0:
        new_tokens = len(tokens) - common_prefix_length(model.cached, tokens)
        max_tokens = model.speed.max_tokens_within(
            settings.latency_budget_ms, new_tokens, max_tokens
        )
    params = GenerationParams(
        max_tokens=max_tokens,
        temperature=settings.temperature,
        single_line=shape.single_line,
    )
    text, stats = generate(
        model,
        tokens,
        params,
        stop_rules_for(shape),
        cancel,
        reuse=settings.cache_reuse,
        speculative=settings.speculative,
        shift_chunk=SHIFT_MIN_CHUNK if settings.cache_shift else 0,
    )
    if stats.stop_reason is StopReason.CANCELLED:
        return Completion("", stats)
    final = postprocess(text, request, shape)
    log.info(
        "completion: %d prompt tokens (%d evaluated), %d generated, %s, %.0f+%.0f ms",
        stats.prompt_tokens,
        stats.prompt_tokens_evaluated,
        stats.generated_tokens,
        stats.stop_reason.value,
        stats.prompt_ms,
        stats.generate_ms,
    )
    return Completion(final, stats)


def run_alternatives(
    model: LoadedModel, request: CompletionRequest, settings: Settings, cancel: CancelToken
) -> list[Completion]:
    """Automatic: one completion. Invoked: also the other shape (line vs block), deduplicated."""
    first_shape = decide_shape(request)
    results = [run_completion(model, request, settings, cancel, first_shape)]
    if request.trigger is Trigger.INVOKED and settings.invoked_items > 1 and not cancel.cancelled:
        other = Shape(single_line=not first_shape.single_line, line_prefix=first_shape.line_prefix)
        results.append(run_completion(model, request, settings, cancel, other))
    seen: set[str] = set()
    unique = []
    for completion in results:
        if completion.text and completion.text not in seen:
            seen.add(completion.text)
            unique.append(completion)
    return unique or results[:1]
