"""One completion: request -> prompt -> engine -> post-processing. Runs on the engine's thread.

The same code serves the LSP handlers, `smallcode-lsp complete`, the benchmarks and the eval.
Its steps are a `CompletionPlan` chosen once from the settings: workspace context or a plain
prefix/suffix window; syntax-aware shaping or indentation stops. The plan with both off is the
baseline the evaluation compares against.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from smallcode_lsp.context.builder import ContextBuilder
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import Shape, SyntaxStopper, decide_shape
from smallcode_lsp.engine.base import CompletionModel
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.prompt import PromptFormat, build_prompt
from smallcode_lsp.engine.stops import StopRule, make_block_stop, stop_at_line_end
from smallcode_lsp.options import Settings
from smallcode_lsp.postprocess.chain import postprocess as run_filters
from smallcode_lsp.prompt_window import prefix_window, suffix_window
from smallcode_lsp.safety.lint import lint
from smallcode_lsp.types import (
    Completion,
    CompletionRequest,
    GenerationParams,
    GenerationStats,
    PromptParts,
    StopReason,
    Trigger,
)
from smallcode_lsp.workspace.index import WorkspaceIndex
from smallcode_lsp.workspace.recent import RecentSnippets

log = logging.getLogger(__name__)

SUFFIX_SHARE = 4  # the suffix gets at most 1/4 of the prompt budget (llama-server /infill too)
MAX_PROMPT_TOKENS = 2048  # prefill on 2 cores: ~500 tokens/s; more context costs a cold start
RECENT_JUMP_LINES = 32
PROTECTED_SHARE = 0.9  # background work keeps at least this share of the cached prompt
# Smaller prompts for spots the cache has not seen: the largest whose uncached part the time
# budget can pay for at the measured prompt speed is used, and the full one grown in the
# background (prefetcher.py). Fixed sizes, so each keeps a stable window start (builder.py).
PROMPT_TIERS = (1024, 512, 256)
PROMPT_SHARE = 0.75  # of the time budget for the prompt; the rest decodes the answer
INVOKED_BUDGET_MS = 2500  # an explicit request: the user waits, but not for a 2k-token prefill
SHIFT_MIN_CHUNK = 16  # smallest cached chunk worth shifting into place (llama-server's
# --cache-reuse N)


@dataclass
class ContextSources:
    """Workspace-level context shared by all requests; used on the engine's thread only
    (jobs bring the workspace index with them)."""

    index: WorkspaceIndex | None = None
    recent: RecentSnippets = field(default_factory=RecentSnippets)
    _builder: ContextBuilder | None = None
    _builder_model: int = 0
    _recent_lines: dict[str, int] = field(default_factory=dict)
    # uri -> the prompt size the last request there used (pipeline._sized_prompt tries it first)
    prompt_limits: dict[str, int] = field(default_factory=dict)

    def use_index(self, index: WorkspaceIndex | None) -> None:
        if index is not self.index:
            self.index = index
            self._builder = None  # it searches the index it was built with

    def note_cursor(self, request: CompletionRequest) -> None:
        """Remember the code around the cursor when it lands somewhere new (>32 lines away).

        Not on every keystroke: a changed snippet set changes the prompt's stable front.
        """
        doc = request.document
        if not doc.path:
            return
        line = doc.text.count("\n", 0, request.offset)
        last = self._recent_lines.get(doc.uri)
        if last is None or abs(line - last) > RECENT_JUMP_LINES:
            self._recent_lines[doc.uri] = line
            self.recent.add_around(doc.path, doc.text, request.offset)

    def builder_for(self, model: CompletionModel) -> ContextBuilder:
        """One builder per loaded model: it counts in that model's tokens and keeps state."""
        if self._builder is None or self._builder_model != id(model):
            self._builder = ContextBuilder(self.index, self.recent, model.blocks.count)
            self._builder_model = id(model)
        return self._builder


# -- the steps -----------------------------------------------------------------------------------

ShapeStep = Callable[[CompletionRequest, ParsedDocument | None], Shape]
PartsStep = Callable[
    [CompletionRequest, ParsedDocument | None, CompletionModel, ContextSources, int, int],
    PromptParts,
]
StopStep = Callable[[CompletionRequest, ParsedDocument | None, Shape], list[StopRule]]
FinishStep = Callable[[str, CompletionRequest, ParsedDocument | None, Shape, bool], str]


def basic_shape(request: CompletionRequest, _parsed: ParsedDocument | None = None) -> Shape:
    """Mid-line: finish the line. On an empty line or after a block opener: a block."""
    prefix = request.prefix
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    line_suffix = request.suffix.split("\n", 1)[0]
    opener = line_prefix.rstrip().endswith((":", "{", "(", "["))
    blank_line = not line_prefix.strip()
    single = bool(line_suffix.strip()) or not (blank_line or opener)
    indent = line_prefix[: len(line_prefix) - len(line_prefix.lstrip(" \t"))]
    return Shape(single, indent, "line" if single else "block", len(indent))


def basic_stop_rules(
    request: CompletionRequest, _parsed: ParsedDocument | None, shape: Shape
) -> list[StopRule]:
    if shape.single_line:
        return [stop_at_line_end]
    prefix = request.prefix
    return [make_block_stop(prefix[prefix.rfind("\n") + 1 :])]


def basic_postprocess(
    text: str,
    request: CompletionRequest,
    _parsed: ParsedDocument | None,
    shape: Shape,
    _truncated: bool = False,
) -> str:
    """Cut trailing space and text the suffix already has."""
    text = text.rstrip()
    if not text.strip():
        return ""
    line_suffix = request.suffix.split("\n", 1)[0].strip()
    if line_suffix and shape.single_line:
        first_line = text.split("\n", 1)[0]
        if first_line.endswith(line_suffix):
            text = first_line[: len(first_line) - len(line_suffix)].rstrip()
    lines = request.suffix.split("\n", 2)
    next_line = lines[1].strip() if len(lines) > 1 else ""
    if next_line and text.strip() == next_line:  # would duplicate the line below
        return ""
    return text


def window_parts(
    request: CompletionRequest,
    _parsed: ParsedDocument | None,
    model: CompletionModel,
    _sources: ContextSources,
    budget: int,
    suffix_budget: int,
) -> PromptParts:
    doc = request.document
    return PromptParts(
        prefix=prefix_window(request.prefix, budget, model.count_tokens),
        suffix=suffix_window(request.suffix, suffix_budget, model.count_tokens)
        if suffix_budget
        else "",
        file_path=doc.path.rsplit("/", 1)[-1] if doc.path else None,
        language_id=doc.language_id,
    )


def context_parts(
    request: CompletionRequest,
    parsed: ParsedDocument | None,
    model: CompletionModel,
    sources: ContextSources,
    budget: int,
    suffix_budget: int,
) -> PromptParts:
    """The file's windows plus imports, definitions and recent code (context/builder.py)."""
    return sources.builder_for(model).build(request, parsed, budget, suffix_budget)


def syntax_stop_rules(
    request: CompletionRequest, parsed: ParsedDocument | None, shape: Shape
) -> list[StopRule]:
    return [SyntaxStopper(request, parsed, shape).check]


def shaped_postprocess(
    text: str,
    request: CompletionRequest,
    parsed: ParsedDocument | None,
    shape: Shape,
    truncated: bool,
) -> str:
    return run_filters(text, request, parsed, shape, truncated=truncated)


@dataclass(frozen=True)
class CompletionPlan:
    """The steps of a completion and the settings they run with, chosen once."""

    name: str
    shape: ShapeStep
    parts: PartsStep
    stop_rules: StopStep
    finish: FinishStep
    parses: bool  # the steps read the parsed document
    notes_cursor: bool  # remember code around the cursor for later prompts
    params: GenerationParams
    latency_budget_ms: int = 0  # Automatic requests: prompts sized to it (0: full prompts)
    invoked_budget_ms: int = INVOKED_BUDGET_MS  # Invoked requests (0: full prompts)
    use_fim: bool = True
    security_lint: bool = False
    invoked_items: int = 3


def make_plan(settings: Settings) -> CompletionPlan:
    """The plan for `settings`: context and shaping steps, or their plain baselines."""
    features = settings.completion
    if features.shaping:
        shaping: tuple[ShapeStep, StopStep, FinishStep] = (
            decide_shape,
            syntax_stop_rules,
            shaped_postprocess,
        )
    else:
        shaping = (basic_shape, basic_stop_rules, basic_postprocess)
    names = [n for n, on in (("context", features.context), ("shaping", features.shaping)) if on]
    return CompletionPlan(
        name=" + ".join(names) or "prefix/suffix only",
        shape=shaping[0],
        parts=context_parts if features.context else window_parts,
        stop_rules=shaping[1],
        finish=shaping[2],
        parses=features.context or features.shaping,
        notes_cursor=features.context,
        params=GenerationParams(
            max_tokens=features.max_tokens,
            temperature=features.temperature,
            speculative=features.speculative,
            reuse=settings.bench.cache_reuse,
            shift_chunk=SHIFT_MIN_CHUNK if settings.bench.cache_shift else 0,
        ),
        latency_budget_ms=features.latency_budget_ms,
        use_fim=features.use_fim,
        security_lint=features.security_lint,
        invoked_items=features.invoked_items,
    )


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


# -- one completion ------------------------------------------------------------------------------


def _parsed_for(request: CompletionRequest, parsed: ParsedDocument | None) -> ParsedDocument:
    doc = request.document
    if parsed is not None and parsed.text == doc.text:
        return parsed
    return ParsedDocument(doc.text, doc.language_id, doc.path)


@dataclass(frozen=True)
class _Prompt:
    parts: PromptParts
    heal: str
    tokens: list[int]
    limit: int  # the token budget it was built for


def _build(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    sources: ContextSources,
    parsed: ParsedDocument | None,
    limit: int,
) -> _Prompt:
    suffix_budget = limit // SUFFIX_SHARE if model.fim.available and plan.use_fim else 0
    parts = plan.parts(request, parsed, model, sources, limit - suffix_budget, suffix_budget)
    parts, heal = heal_trailing_space(parts)
    fmt = PromptFormat(fim=model.fim, bos=model.bos, add_bos=model.add_bos, use_fim=plan.use_fim)
    return _Prompt(parts, heal, build_prompt(parts, fmt, model.blocks.tokenize), limit)


def context_files(parts: PromptParts) -> tuple[tuple[str, str], ...]:
    """The snippets as (path, text), in prompt order, for engines that assemble prompts."""
    return tuple((snippet.path, snippet.text) for snippet in parts.snippets)


def full_limit(model: CompletionModel, plan: CompletionPlan) -> int:
    """Tokens of the full prompt: what the context holds besides the answer."""
    return min(MAX_PROMPT_TOKENS, model.n_ctx - plan.params.max_tokens - 8)


def _sized_prompt(
    model: CompletionModel,
    request: CompletionRequest,
    plan: CompletionPlan,
    sources: ContextSources,
    parsed: ParsedDocument | None,
) -> _Prompt:
    """The largest prompt whose part not in the KV cache fits the request's time budget.

    The budget is the configured one (not the typing cadence's share of a keystroke): prompt
    work done for a keystroke is kept for the next (generate.py), so a cold spot is paid once.
    """
    full = full_limit(model, plan)
    if request.trigger is Trigger.INVOKED:
        budget_ms = plan.invoked_budget_ms
    else:
        budget_ms = plan.latency_budget_ms
    prompt = _build(model, request, plan, sources, parsed, full)
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
        chosen = _build(model, request, plan, sources, parsed, smaller.pop(0))
        smallest = min(smallest, chosen, key=lambda p: p.limit)
    sources.prompt_limits[uri] = chosen.limit
    return chosen


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
    prompt = _sized_prompt(model, request, plan, sources, parsed)
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
    params = replace(
        plan.params,
        single_line=shape.single_line,
        deadline=request.deadline,  # set by the scheduler on Automatic requests only
        finish_line=request.finish_line,
        background=protect_cache,
        context_files=context_files(parts),
    )
    text, stats = model.generate(tokens, params, rules, cancel)
    stats.prepare_ms = prepare_ms
    stats.prompt_limit = prompt.limit
    stats.prompt_shrunk = prompt.limit < full_limit(model, plan)
    if stats.stop_reason is StopReason.CANCELLED and not (protect_cache and text.strip()):
        # A user request that was cancelled is stale; background work preempted part-way
        # keeps what it made (the start of the model's answer, for the type-ahead cache).
        return Completion("", stats, parts.snippets)
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
    prompt = _build(model, request, plan, sources, parsed, full_limit(model, plan))
    return _prefill(model, prompt, plan, cancel, "grown prompt")


def _prefill(
    model: CompletionModel, prompt: _Prompt, plan: CompletionPlan, cancel: CancelToken, what: str
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
    answer for type-ahead: typing along it costs nothing), then evaluate the full prompt.
    Preempted, a prefill keeps the chunks it finished; an answer cut short is dropped."""
    if plan.notes_cursor:
        sources.note_cursor(request)  # as the keystroke's run_alternatives will
    parsed = _parsed_for(request, parsed) if plan.parses else None
    first = _sized_prompt(model, request, plan, sources, parsed)
    stats = _prefill(model, first, plan, cancel, "warmed the resting spot")
    if stats.stop_reason is StopReason.CANCELLED:
        return []
    answer = run_completion(model, request, plan, cancel, sources, parsed)
    if not cancel.cancelled and first.limit < full_limit(model, plan):
        grow_prompt(model, request, plan, cancel, sources, parsed)
    return [answer] if answer.text else []


class JobKind(Enum):
    """What a job does with its request."""

    ANSWER = "answer"  # the user's request: completions, as fast as the deadline allows
    PREFETCH = "prefetch"  # background: the answer after the shown one (protects the cache)
    GROW = "grow"  # background: the full prompt evaluated after an answer from a smaller one
    WARM = "warm"  # background: the resting cursor's spot prefilled before the first key

    @property
    def background(self) -> bool:
        return self is not JobKind.ANSWER


@dataclass(frozen=True)
class CompletionJob:
    """One request's work under one plan: what the scheduler hands the engine (`kind`)."""

    request: CompletionRequest
    plan: CompletionPlan
    sources: ContextSources
    index: WorkspaceIndex | None = None
    parsed: ParsedDocument | None = None
    kind: JobKind = JobKind.ANSWER
    submitted: float = field(default_factory=time.perf_counter)

    @property
    def background(self) -> bool:
        return self.kind.background

    def run(self, model: CompletionModel, cancel: CancelToken) -> list[Completion]:
        waited_ms = (time.perf_counter() - self.submitted) * 1000
        self.sources.use_index(self.index)
        if self.kind is JobKind.GROW:
            grow_prompt(model, self.request, self.plan, cancel, self.sources)
            return []
        if self.kind is JobKind.WARM:
            return warm_prompt(model, self.request, self.plan, cancel, self.sources, self.parsed)
        results = run_alternatives(
            model, self.request, self.plan, cancel, self.sources, self.parsed, self.background
        )
        if not self.background:
            for completion in results:
                completion.stats.queue_ms = waited_ms
        return results
