"""Plain data types shared by the pipeline, engine, context builder and post-processing.

No LSP types here: the server converts protocol objects to these (see convert.py).
Offsets are Python string indices (code points) into the document text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Trigger(Enum):
    """Why the editor asked: typing (one fast item) or an explicit request (may take longer)."""

    AUTOMATIC = "automatic"
    INVOKED = "invoked"


@dataclass(frozen=True)
class DocumentSnapshot:
    """One version of an open document, as the pipeline sees it."""

    uri: str
    text: str
    language_id: str
    version: int = 0
    path: str | None = None  # filesystem path when the URI is a file: URI


@dataclass(frozen=True)
class CompletionRequest:
    """A request for a completion at `offset` in `document`."""

    document: DocumentSnapshot
    offset: int
    trigger: Trigger = Trigger.AUTOMATIC
    deadline: float | None = None  # time.perf_counter() by which to answer (Automatic only)
    # The deadline is the whole configured budget (no typing burst shrank it): an answer cut
    # there still gets the rest of its line rather than end in a fragment.
    finish_line: bool = False
    # The next key is due by then (the user's usual pace; a burst's first keys only): the
    # deadline to answer by instead when the prompt is cached (a warm spot costs only decoding).
    warm_deadline: float | None = None

    @property
    def prefix(self) -> str:
        return self.document.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.document.text[self.offset :]


@dataclass(frozen=True)
class ContextSnippet:
    """A piece of extra context shown to the model before the file (another file's code)."""

    path: str  # workspace-relative path shown to the model
    text: str
    kind: str = "definition"  # definition | recent | import | ...


@dataclass(frozen=True)
class PromptParts:
    """Everything the engine needs to build the token list, stable parts first.

    `snippets` come first in the prompt (most stable), then the file header, then the
    prefix, then (FIM models only) the suffix.
    """

    prefix: str
    suffix: str
    snippets: tuple[ContextSnippet, ...] = ()
    file_path: str | None = None  # shown to the model in a header line when known
    language_id: str = "plaintext"


class StopReason(Enum):
    EOG = "eog"  # model emitted an end-of-generation token
    MAX_TOKENS = "max_tokens"
    STOP_RULE = "stop_rule"  # a stop rule (line end, block end, syntax) cut the text
    CANCELLED = "cancelled"
    DEADLINE = "deadline"  # an Automatic request's latency budget ran out
    ERROR = "error"


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 64
    temperature: float = 0.0
    single_line: bool = False  # stop at the first newline after some text
    deadline: float | None = None  # time.perf_counter() by which decoding should be done
    finish_line: bool = False  # at the deadline, end the current line first (within 1 s)
    speculative: bool = True  # prompt-lookup drafts verified in batches (greedy only)
    reuse: bool = True  # keep the cached prefix of the prompt (off: benchmarks only)
    shift_chunk: int = 16  # smallest cached chunk shifted over deleted text (0: no shifting)
    background: bool = False  # preemptible work: prompt chunks abort at once (none held)
    # (path, text) of the prompt's context snippets, stable first: for an engine that
    # assembles the prompt itself (llama-server's /infill `input_extra`)
    context_files: tuple[tuple[str, str], ...] = ()


@dataclass
class GenerationStats:
    """What one generation cost: exposed to tests and benchmarks via the status request."""

    prompt_tokens: int = 0  # length of the token list given to the model
    prompt_tokens_evaluated: int = 0  # tokens actually decoded (not reused from the KV cache)
    prompt_tokens_reused: int = 0
    prompt_tokens_shifted: int = 0  # of the reused: moved into place after deleted text
    generated_tokens: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    stop_reason: StopReason = StopReason.EOG
    draft_tokens: int = 0  # prompt-lookup draft tokens verified
    draft_accepted: int = 0  # ... of which greedy decoding agreed with
    cached_answer_accepted: int = 0  # ... of which an earlier answer here, found in the cache
    from_cache: bool = False  # answered by type-ahead reuse: no model work at all
    llama_ms: float = 0.0  # inside llama.cpp (llama_decode, sampler): the raw compute
    queue_ms: float = 0.0  # waiting for the engine (a cancelled job letting go, preemption)
    prepare_ms: float = 0.0  # context, prompt text and tokenization
    post_ms: float = 0.0  # post-processing filters
    prompt_limit: int = 0  # the token budget the prompt was built for
    prompt_shrunk: bool = False  # smaller than the full prompt (a cold spot): grow it later
    prompt_restored: int = 0  # of the reused: copied back from a parked state (local/parking.py)
    parked_bytes: int = 0  # what the parked prompts of other spots hold in RAM, after this job

    def as_dict(self) -> dict[str, object]:
        return {
            "promptTokens": self.prompt_tokens,
            "promptTokensEvaluated": self.prompt_tokens_evaluated,
            "promptTokensReused": self.prompt_tokens_reused,
            "promptTokensShifted": self.prompt_tokens_shifted,
            "generatedTokens": self.generated_tokens,
            "promptMs": round(self.prompt_ms, 2),
            "generateMs": round(self.generate_ms, 2),
            "stopReason": self.stop_reason.value,
            "draftTokens": self.draft_tokens,
            "draftAccepted": self.draft_accepted,
            "cachedAnswerAccepted": self.cached_answer_accepted,
            "fromCache": self.from_cache,
            "llamaMs": round(self.llama_ms, 2),
            "queueMs": round(self.queue_ms, 2),
            "prepareMs": round(self.prepare_ms, 2),
            "postMs": round(self.post_ms, 2),
            "promptLimit": self.prompt_limit,
            "promptShrunk": self.prompt_shrunk,
            "promptRestored": self.prompt_restored,
            "parkedBytes": self.parked_bytes,
        }


@dataclass(frozen=True)
class Completion:
    """The pipeline's answer: text to insert at the cursor (may be empty)."""

    text: str
    stats: GenerationStats = field(default_factory=GenerationStats)
    context: tuple[ContextSnippet, ...] = ()  # what the prompt showed besides the file
