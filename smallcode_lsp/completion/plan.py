"""The steps of a completion, chosen once from the settings (`CompletionPlan`, `make_plan`),
and the plain baseline steps the evaluation compares against (`basic_*`, `window_parts`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.context.document import ParsedDocument
from smallcode_lsp.context.shaping import Shape, SyntaxStopper, decide_shape
from smallcode_lsp.engine.base import CompletionModel
from smallcode_lsp.engine.stops import StopRule, make_block_stop, stop_at_line_end
from smallcode_lsp.options import Settings
from smallcode_lsp.postprocess.chain import postprocess as run_filters
from smallcode_lsp.prompt_window import prefix_window, suffix_window
from smallcode_lsp.types import CompletionRequest, GenerationParams, PromptParts

INVOKED_BUDGET_MS = 2500  # an explicit request: the user waits, but not for a 2k-token prefill
SHIFT_MIN_CHUNK = 16  # smallest cached chunk worth shifting into place (llama-server's
# --cache-reuse N)

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
