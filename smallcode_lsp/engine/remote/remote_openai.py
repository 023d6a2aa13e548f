"""The remote model over an OpenAI-compatible `/v1/completions` (`engineKind: openai`).

The pipeline builds stand-in token lists (text_prompt.py) counted in the engine's tokens;
each request renders them to text in the model's FIM template and streams the answer
(`stream: true`, SSE `data:` chunks, `[DONE]`), our stop rules cutting it as it arrives.
Stopping early (a stop rule, the deadline, a cancel) closes the stream, and `max_tokens`
bounds the request server-side in case the engine does not notice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import PurePath

from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.deadline import answer_deadline
from smallcode_lsp.engine.info import NO_FIM, ModelInfo
from smallcode_lsp.engine.remote.http import BadResponse, EngineError, HttpClient, Unreachable
from smallcode_lsp.engine.remote.openai_api import (
    COMPLETIONS,
    MODELS,
    Counter,
    Usage,
    completion_body,
    context_size,
    find_counter,
    pick_model,
    prefill_body,
    read_chunk,
    served_models,
    stop_reason,
)
from smallcode_lsp.engine.remote.remote_model import Measured, RemoteModel, StreamText
from smallcode_lsp.engine.remote.text_prompt import (
    FimTemplate,
    LostBlock,
    TemplateError,
    TextBlocks,
    choose_template,
)
from smallcode_lsp.engine.stops import StopRule
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason

log = logging.getLogger(__name__)


class OpenAIModel(RemoteModel):
    """A model behind `/v1/completions`, as the pipeline sees it (engine thread only)."""

    api = "openai"

    def __init__(
        self,
        client: HttpClient,
        info: ModelInfo,
        model_id: str,
        template: FimTemplate | None,
        counter: Counter,
        n_ctx: int,
        timeout_ms: int,
    ) -> None:
        self.text_blocks = TextBlocks(counter.count)
        fim = template.fim if template is not None else NO_FIM
        super().__init__(client, info, fim, n_ctx, timeout_ms, blocks=self.text_blocks)
        self.model_id = model_id
        self.template = template
        self.counter = counter

    def tokenize(self, text: str) -> list[int]:
        return self.text_blocks.tokenize(text)

    def describe(self) -> dict[str, object]:
        return {
            "api": self.api,
            "model": self.model_id,
            "context": self.n_ctx,
            "fimTemplate": self.template.name if self.template else "none",
            "tokenizer": self.counter.style,
        }

    def render(self, prompt: Sequence[int]) -> str:
        """The text to send for a stand-in prompt."""
        try:
            return self.text_blocks.render(prompt, self.template)
        except LostBlock as exc:  # a bug, not the engine's fault: say so, answer empty
            raise BadResponse(f"prompt text lost (block {exc}): please report") from exc

    def generate(
        self,
        prompt: Sequence[int],
        params: GenerationParams,
        stop_rules: Sequence[StopRule],
        cancel: CancelToken,
    ) -> tuple[str, GenerationStats]:
        """Stream `/v1/completions`; stop (close the stream) at a stop rule, the deadline or
        a cancel. Transport faults raise EngineError (the engine answers empty)."""
        stats = GenerationStats(prompt_tokens=len(prompt), stop_reason=StopReason.MAX_TOKENS)
        reused = self.slot.shared_prefix(prompt)
        body = completion_body(self.model_id, self.render(prompt), params)
        began = time.perf_counter()
        text = StreamText(stop_rules, stats)
        deadline = params.deadline
        first: float | None = None
        finished: str | None = None
        usage: Usage | None = None
        last: dict[str, object] = {}
        pieces = 0
        try:
            for event in self.client.stream(COMPLETIONS, body, cancel):
                chunk = read_chunk(event)
                usage = chunk.usage or usage
                if "timings" in event:
                    last = event
                if finished is not None:
                    continue  # after the end: the usage chunk, then [DONE]
                if chunk.text:
                    pieces += 1
                    stats.generated_tokens = pieces
                    if first is None:
                        first = time.perf_counter()
                        deadline, text.line_only = answer_deadline(
                            params.deadline, first, self.speed, params.finish_line
                        )
                if text.add(chunk.text):
                    break
                if chunk.finish_reason is not None:
                    finished = chunk.finish_reason
                    stats.stop_reason = stop_reason(finished)
                    continue  # read on to the end: the usage, and a reusable connection
                if (reason := self.reason_to_stop(text, cancel, deadline)) is not None:
                    stats.stop_reason = reason
                    break
            else:
                if finished is None:  # no finish_reason: the engine went away mid-answer
                    raise Unreachable(f"engine unreachable at {self.client.url}: closed mid-answer")
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
        ended = time.perf_counter()
        self._account(stats, prompt, reused, usage, last, pieces, began, first, ended)
        return text.text, stats

    def prefill(
        self, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
    ) -> GenerationStats:
        """One token after `prompt`, for the engine's prefix cache (background)."""
        stats = GenerationStats(prompt_tokens=len(prompt), stop_reason=StopReason.MAX_TOKENS)
        reused = self.slot.shared_prefix(prompt)
        body = prefill_body(self.model_id, self.render(prompt))
        began = time.perf_counter()
        answer: dict[str, object] = {}
        try:
            answer = self.client.post_json(COMPLETIONS, body, cancel)
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
        usage = Usage.of(answer) if answer else None
        ended = time.perf_counter()
        self._account(stats, prompt, reused, usage, answer, 0, began, None, ended)
        return stats

    def _account(
        self,
        stats: GenerationStats,
        prompt: Sequence[int],
        reused: int,
        usage: Usage | None,
        final: dict[str, object],
        pieces: int,
        began: float,
        first: float | None,
        ended: float,
    ) -> None:
        """Fill `stats` from the engine's report (llama-server's timings, the usage's cached
        tokens) or our clock; remember the prompt as what the engine's cache holds."""
        measured = Measured.from_timings(final)  # llama-server adds its timings
        told = usage is not None and usage.cached_tokens is not None
        if measured is None:
            engine_prompt = usage.prompt_tokens if usage and usage.prompt_tokens else len(prompt)
            cached = usage.cached_tokens if usage and usage.cached_tokens is not None else None
            if cached is None:  # our record, scaled to the engine's count
                cached = min(engine_prompt, reused)
            generated = usage.completion_tokens if usage and usage.completion_tokens else pieces
            prompt_end = first if first is not None else ended
            measured = Measured(
                reused=cached,
                evaluated=max(0, engine_prompt - cached),
                prompt_ms=(prompt_end - began) * 1000,  # includes the network and any queue
                generate_ms=(ended - prompt_end) * 1000,
                generated=generated,
                reported=False,
                timed=first is not None,
            )
        self.record(stats, measured)
        reported = measured.reused if measured.reported or told else None
        self.slot.hold(prompt, list(prompt), reported)


def connect_openai(
    client: HttpClient, model: str | None, fim_template: str | None, timeout_ms: int
) -> OpenAIModel:
    """What the engine at `client` serves now: the model (engineModel, else the first
    listed), its FIM template, how its tokens are counted and its context size."""
    served = pick_model(served_models(client.get_json(MODELS)), model)
    try:
        template = choose_template(fim_template, served.id)
    except TemplateError as exc:
        raise EngineError(str(exc)) from exc
    counter = find_counter(client, served.id)
    n_ctx = context_size(client, served, counter)

    def meta_int(key: str) -> int:
        value = served.meta.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    info = ModelInfo(
        path=served.id,
        architecture="unknown (remote)",
        name=PurePath(served.id).name.removesuffix(".gguf"),
        description=f"{served.id} served by an OpenAI-compatible engine at {client.url}",
        file_size=meta_int("size"),
        n_params=meta_int("n_params"),
        n_ctx_train=served.max_model_len or meta_int("n_ctx_train"),
        n_vocab=meta_int("n_vocab"),
        has_fim=template is not None,
        expert_count=0,
        expert_used_count=0,
    )
    return OpenAIModel(client, info, served.id, template, counter, n_ctx, timeout_ms)
