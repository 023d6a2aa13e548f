"""The remote model over llama-server's own API: tokens through `/tokenize` (cached in line
blocks), generation streamed from `/completion` with our own token-list prompt, pinned to a
slot of the user's own (llama_server.py has the request and answer formats)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.deadline import answer_deadline
from smallcode_lsp.engine.remote.http import BadResponse, HttpClient, Unreachable
from smallcode_lsp.engine.remote.llama_server import (
    ServerFacts,
    Timings,
    completion_body,
    infill_body,
    prefill_body,
    read_facts,
    slot_for,
    stop_reason,
    token_list,
    tokenize_body,
    warmup_body,
)
from smallcode_lsp.engine.remote.remote_model import Measured, RemoteModel, StreamText
from smallcode_lsp.engine.speed import MIN_PREFILL_SAMPLE
from smallcode_lsp.engine.stops import StopRule
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason

log = logging.getLogger(__name__)


class LlamaServerModel(RemoteModel):
    """A model served by llama-server, as the pipeline sees it (engine thread only)."""

    api = "llama-server"

    def __init__(
        self,
        client: HttpClient,
        facts: ServerFacts,
        slot: int,
        timeout_ms: int,
        infill: bool = False,
    ) -> None:
        super().__init__(client, facts.info, facts.fim, facts.n_ctx, timeout_ms, bos=facts.bos)
        self.facts = facts
        self.add_bos = facts.add_bos
        self.slot_id = slot
        # FIM prompts through /infill (the server assembles them) instead of /completion
        self.infill = infill and facts.fim.available

    def measure_prompt_speed(self) -> None:
        """Seed the speed meter that sizes prompts with the engine's own prompt speed: one
        short prefill at connect (its `timings`), instead of the in-process first guess,
        which is far off for a GPU server or a busy one. Later answers refine it."""
        try:
            answer = self.client.post_json("/completion", warmup_body(self.slot_id))
        except BadResponse as exc:  # an odd server: keep the guess, requests will measure
            log.info("engine: no prompt-speed warm-up (%s)", exc)
            return
        timings = Timings.of(answer)
        if timings.prompt_n >= MIN_PREFILL_SAMPLE and timings.prompt_ms > 0:
            rate = timings.prompt_n / timings.prompt_ms * 1000
            self.speed.prefill_tokens_per_s = rate
            log.info("engine: prompts at %.0f tokens/s (%d-token warm-up)", rate, timings.prompt_n)

    def _request(
        self, prompt: Sequence[int], params: GenerationParams, now: float, stream: bool
    ) -> tuple[str, dict[str, object]]:
        """The endpoint and body for `prompt`: /infill for a FIM prompt when asked for,
        else /completion with our token list."""
        if self.infill:
            body = infill_body(
                prompt, self.fim, params, self.slot_id, now, self.timeout_ms, stream=stream
            )
            if body is not None:
                return "/infill", body
        return "/completion", completion_body(
            prompt, params, self.slot_id, now, self.timeout_ms, stream=stream
        )

    def tokenize(self, text: str) -> list[int]:
        if not text:
            return []
        answer = self.client.post_json("/tokenize", tokenize_body(text))
        return token_list(answer.get("tokens"), "/tokenize")

    def describe(self) -> dict[str, object]:
        return {
            "api": self.api,
            "slots": self.facts.total_slots,
            "slotContext": self.facts.n_ctx,
            "ourSlot": self.slot_id,
            "fimEndpoint": "/infill" if self.infill else "/completion",
        }

    def generate(
        self,
        prompt: Sequence[int],
        params: GenerationParams,
        stop_rules: Sequence[StopRule],
        cancel: CancelToken,
    ) -> tuple[str, GenerationStats]:
        """Stream `/completion`; stop (close the stream) at a stop rule, the deadline or a
        cancel. Transport faults raise EngineError (the engine answers empty)."""
        stats = GenerationStats(prompt_tokens=len(prompt), stop_reason=StopReason.MAX_TOKENS)
        reused = self.slot.shared_prefix(prompt)
        began = time.perf_counter()
        path, body = self._request(prompt, params, began, stream=True)
        text = StreamText(stop_rules, stats)
        deadline = params.deadline
        generated: list[int] = []
        first: float | None = None
        final: dict[str, object] | None = None
        try:
            for event in self.client.stream(path, body, cancel):
                tokens = token_list(event.get("tokens", []), path)
                piece = event.get("content", "")
                if first is None and (tokens or piece):
                    first = time.perf_counter()
                    deadline, text.line_only = answer_deadline(
                        params.deadline, first, self.speed, params.finish_line
                    )
                generated += tokens
                stats.generated_tokens = len(generated)
                if event.get("stop") is True:
                    final = event
                if text.add(piece if isinstance(piece, str) else ""):
                    break
                if final is not None:
                    stats.stop_reason = stop_reason(final, params.max_tokens)
                    break
                if (reason := self.reason_to_stop(text, cancel, deadline)) is not None:
                    stats.stop_reason = reason
                    break
            else:  # no stop event and no reason of ours to stop: the server went away
                raise Unreachable(f"engine unreachable at {self.client.url}: closed mid-answer")
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
        ended = time.perf_counter()
        self._account(stats, prompt, generated, reused, final, began, first, ended)
        return text.text, stats

    def prefill(
        self, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
    ) -> GenerationStats:
        stats = GenerationStats(prompt_tokens=len(prompt), stop_reason=StopReason.MAX_TOKENS)
        reused = self.slot.shared_prefix(prompt)
        began = time.perf_counter()
        final: dict[str, object] | None = None
        path, body = self._request(prompt, params, began, stream=False)
        if path == "/completion":
            body = prefill_body(prompt, self.slot_id)
        else:  # the same /infill prompt, generating nothing
            body.update(n_predict=0, response_fields=["tokens_cached", "timings"])
        try:
            final = self.client.post_json(path, body, cancel)
        except Cancelled:
            stats.stop_reason = StopReason.CANCELLED
        self._account(stats, prompt, [], reused, final, began, None, time.perf_counter())
        return stats

    def _account(
        self,
        stats: GenerationStats,
        prompt: Sequence[int],
        generated: list[int],
        reused: int,
        final: dict[str, object] | None,
        began: float,
        first: float | None,
        ended: float,
    ) -> None:
        """Fill `stats`, feed the speed meter, remember what the slot now holds."""
        measured = Measured.from_timings(final)
        if measured is None:  # the stream was closed early: our own clock and idea of the slot
            prompt_end = first if first is not None else ended
            measured = Measured(
                reused=reused,
                evaluated=len(prompt) - reused,
                prompt_ms=(prompt_end - began) * 1000,
                generate_ms=(ended - prompt_end) * 1000,
                generated=len(generated),
                reported=False,
                timed=False,
            )
        self.record(stats, measured)
        held = self._held_after(prompt, generated, reused, final, began, first, ended)
        self.slot.hold(prompt, held, measured.reused if measured.reported else None)

    def _held_after(
        self,
        prompt: Sequence[int],
        generated: list[int],
        reused: int,
        final: dict[str, object] | None,
        began: float,
        first: float | None,
        ended: float,
    ) -> list[int]:
        """What the slot holds after a request, as far as the server showed us. Its final
        event or a first token mean the whole prompt was evaluated (the last generated token
        was sampled, not decoded: the slot holds the ones before). A request closed before
        either (a cancel mid-prompt) may have stopped part-way: llama-server checks for a
        cancel between batches and keeps what it evaluated. Assume only the cached prefix
        plus what the engine could evaluate before we left, at its measured speed; more
        would make prompt sizing count tokens as cached that the next request must pay for."""
        if final is not None or first is not None:
            return list(prompt) + generated[:-1]
        elapsed_ms = (ended - began) * 1000
        done = reused + self.speed.prompt_tokens_within(elapsed_ms)
        return list(prompt[: min(len(prompt), done)])


def connect_llama(
    client: HttpClient, who: str, timeout_ms: int, infill: bool = False
) -> LlamaServerModel:
    """What the llama-server at `client` serves now, and the slot for `who`."""
    facts = read_facts(client)
    slot = slot_for(who, facts.total_slots)
    model = LlamaServerModel(client, facts, slot, timeout_ms, infill)
    model.measure_prompt_speed()
    return model
