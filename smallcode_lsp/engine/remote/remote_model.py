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
from smallcode_lsp.engine.tokens import BlockTokenizer
from smallcode_lsp.types import GenerationParams, GenerationStats, StopReason


class SlotPrompt:
    """What the engine's cache holds of our prompts, as far as we know: the last prompt (and
    the tokens generated after it). Another user may have replaced it: then prompt sizing
    only misjudges one request's cost."""

    def __init__(self) -> None:
        self.tokens: list[int] = []

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        n = 0
        for held, wanted in zip(self.tokens, tokens, strict=False):
            if held != wanted:
                break
            n += 1
        return n

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
