"""What every remote engine's model shares, whatever its API: the pipeline's view of a model
served over HTTP (`CompletionModel`), the record of what the engine's cache holds, the answer
as it streams in (cut by our stop rules), and the accounting of a finished request.

One module per API builds on it: remote_llama.py (llama-server's `/completion`) and
remote_openai.py (any OpenAI-compatible `/v1/completions`). Engine thread only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import FimTokens, ModelInfo
from smallcode_lsp.engine.remote.http import HttpClient
from smallcode_lsp.engine.remote.llama_server import Timings
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.engine.stops import StopRule, first_cut, first_line_end
from smallcode_lsp.engine.tokens import BlockTokenizer, common_prefix_length
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason

# llama-server keeps prompts a slot no longer holds in host RAM (`--cache-ram`, 8192 MiB by
# default; tools/server server_prompt_cache): when a request would keep less than SAVE_BELOW
# of the slot's prompt, that prompt is saved, and a saved one comes back instead when it keeps
# at least RESTORE_MIN_KEEP of itself and beats the slot's own prompt on both shares
# (server_context get_available_slot, server_prompt_cache::load). Measured: a file's
# 1,365-token prompt, revisited after three others, reused 1,360 tokens in 39 ms, against
# 2.4 s evaluated again with `--cache-ram 0`.
SAVE_BELOW = 0.5
RESTORE_MIN_KEEP = 0.25
REMEMBERED_PROMPTS = 16  # displaced prompts we count on; older ones the engine may have evicted
REPORTED_SHORT = 0.75  # a restore that reused less than this share of what we expected: a miss
MISSES_TO_STOP = 2  # misses in a row: this engine does not bring prompts back


class SlotPrompt:
    """What the engine's cache holds of our prompts, as far as we know: the slot's prompt (and
    the tokens generated after it), and the prompts it held before, which llama-server keeps
    in host RAM and brings back. Another user may have replaced them: then prompt sizing only
    misjudges one request's cost, and the engine's report corrects the record; an engine that
    never brings a prompt back (`--cache-ram 0`, another server) is counted on for the slot's
    prompt alone after MISSES_TO_STOP misses."""

    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.displaced: list[list[int]] = []  # oldest first
        self.restores = True  # the engine brings displaced prompts back
        self._misses = 0

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        """Leading `tokens` the engine will find cached (in the slot, or brought back)."""
        return self._expected(tokens)[0]

    def _expected(self, tokens: Sequence[int]) -> tuple[int, int | None]:
        """(cached tokens, index in `displaced` of the prompt the engine brings back)."""
        best = common_prefix_length(self.tokens, tokens)
        keep = best / len(self.tokens) if self.tokens else -1.0
        chosen = None
        if not self.restores or keep >= SAVE_BELOW:
            return best, None
        for i, held in enumerate(self.displaced):
            n = common_prefix_length(held, tokens)
            share = n / len(held)
            if share >= RESTORE_MIN_KEEP and share > keep and n > best:
                best, keep, chosen = n, share, i
        return best, chosen

    def hold(self, prompt: Sequence[int], held: list[int], reported: int | None) -> None:
        """A request for `prompt` left the slot holding `held`; `reported`: the prompt tokens
        the engine said it found cached (None: it did not say)."""
        expected, restored = self._expected(prompt)
        if restored is not None:
            self.displaced.pop(restored)  # in the slot now (or gone: the engine evicted it)
            if reported is not None:
                missed = reported < expected * REPORTED_SHORT
                self._misses = self._misses + 1 if missed else 0
                if self._misses >= MISSES_TO_STOP:
                    self.restores = False
                    self.displaced.clear()
        old = self.tokens  # saved by the engine as the request takes most of the slot
        if old and self.restores and common_prefix_length(old, prompt) < len(old) * SAVE_BELOW:
            self.displaced = [p for p in self.displaced if common_prefix_length(p, old) < len(p)]
            self.displaced.append(old)
            del self.displaced[:-REMEMBERED_PROMPTS]
        self.tokens = held

    def __len__(self) -> int:
        return len(self.tokens)


class StreamText:
    """The streamed answer so far, cut by the stop rules as pieces arrive."""

    def __init__(self, rules: Sequence[StopRule], stats: GenerationStats) -> None:
        self.rules = rules
        self.stats = stats
        self.text = ""
        self.line_only = False  # the prompt overran the deadline: finish the line only

    def add(self, piece: str) -> bool:
        """Append `piece`; True when the answer is complete here."""
        if not piece:
            return False
        self.text += piece
        cut = first_cut(self.rules, self.text)
        if cut is not None:
            self.text = self.text[:cut]
            self.stats.stop_reason = StopReason.STOP_RULE
            return True
        if self.line_only:
            end = first_line_end(self.text)
            if end is not None:
                self.text = self.text[:end]
                self.stats.stop_reason = StopReason.DEADLINE
                return True
        return False


@dataclass(frozen=True)
class Measured:
    """What one request cost, from the engine's own report when it gave one."""

    reused: int  # prompt tokens found in the engine's cache
    evaluated: int  # prompt tokens the engine computed
    prompt_ms: float
    generate_ms: float
    generated: int  # tokens generated
    reported: bool  # from the engine's timings (else our clock and our cache record)
    timed: bool  # the times say how fast the engine is (feed the speed meter)

    @staticmethod
    def from_timings(final: dict[str, object] | None) -> Measured | None:
        """From llama-server's `timings` in a final answer (its own API or its `/v1`); None
        when there are none to go by."""
        timings = Timings.of(final) if final is not None else None
        if timings is None or timings.prompt_n + timings.cache_n <= 0:
            return None
        return Measured(
            reused=timings.cache_n,
            evaluated=timings.prompt_n,
            prompt_ms=timings.prompt_ms,
            generate_ms=timings.predicted_ms,
            generated=timings.predicted_n,
            reported=True,
            timed=True,
        )


class RemoteModel:
    """The pipeline's model over an engine's HTTP API (engine thread only). Subclasses add
    `tokenize`, `generate` and `prefill` for their API."""

    api = "remote"  # the API's name, for `smallcode-lsp model` and the logs

    def __init__(
        self,
        client: HttpClient,
        info: ModelInfo,
        fim: FimTokens,
        n_ctx: int,
        timeout_ms: int,
        blocks: BlockTokenizer | None = None,
        bos: int | None = None,
    ) -> None:
        self.client = client
        self.info = info
        self.fim = fim
        self.bos = bos
        self.add_bos = bos is not None
        self.n_ctx = n_ctx
        self.timeout_ms = timeout_ms
        self.speed = SpeedMeter()  # fed from the engine's timings or our clock
        self.blocks = blocks if blocks is not None else BlockTokenizer(self.tokenize)
        self.slot = SlotPrompt()
        self.prompt_tokens_evaluated = 0

    def tokenize(self, text: str) -> list[int]:
        raise NotImplementedError

    def generate(
        self,
        prompt: Sequence[int],
        params: GenerationParams,
        stop_rules: Sequence[StopRule],
        cancel: CancelToken,
    ) -> tuple[str, GenerationStats]:
        raise NotImplementedError

    def prefill(
        self, prompt: Sequence[int], params: GenerationParams, cancel: CancelToken
    ) -> GenerationStats:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return self.blocks.count(text)  # cached: each count is a round trip otherwise

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        return self.slot.shared_prefix(tokens)

    def pick_cache(self, tokens: Sequence[int]) -> SlotPrompt:
        return self.slot

    def describe(self) -> dict[str, object]:
        """What `smallcode-lsp model` shows of the engine besides the model."""
        return {"api": self.api, "context": self.n_ctx}

    def reason_to_stop(
        self, text: StreamText, cancel: CancelToken, deadline: float | None
    ) -> StopReason | None:
        """Why to close the stream before the engine's own end (None: read on)."""
        if cancel.cancelled:
            return StopReason.CANCELLED
        if (
            deadline is not None
            and text.text.strip()
            and not self.speed.step_fits(deadline, time.perf_counter())
        ):
            return StopReason.DEADLINE
        return None

    def record(self, stats: GenerationStats, measured: Measured) -> None:
        """Fill `stats` and feed the speed meter from one finished request."""
        stats.prompt_tokens_reused = measured.reused
        stats.prompt_tokens_evaluated = measured.evaluated
        stats.prompt_ms = measured.prompt_ms
        stats.generate_ms = measured.generate_ms
        if measured.reported:
            stats.llama_ms = measured.prompt_ms + measured.generate_ms
        if measured.timed:
            self.speed.record_prefill(measured.evaluated, measured.prompt_ms)
            # The engine's decode time covers every token; our clock starts at the first.
            steps = measured.generated if measured.reported else measured.generated - 1
            if measured.generated > 1 and steps > 0:
                self.speed.record_step(measured.generate_ms / steps)
        self.prompt_tokens_evaluated += measured.evaluated

    def close(self) -> None:
        self.client.close()
