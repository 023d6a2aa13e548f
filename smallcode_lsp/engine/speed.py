"""The engine's own measured speed: when a decode step would overrun a request's deadline, and
how many prompt tokens a time budget can pay for."""

from __future__ import annotations

from dataclasses import dataclass

_STEP_ALPHA = 0.1  # EMA weight of the newest single-token decode step
_PREFILL_ALPHA = 0.3  # EMA weight of the newest prompt chunk's speed
MIN_PREFILL_SAMPLE = 32  # smaller chunks say more about overhead than throughput


@dataclass
class SpeedMeter:
    """Decode step time and prompt-evaluation throughput, measured by the clock."""

    generate_ms_per_token: float = 40.0  # first guess for a small model on 2 cores
    prefill_tokens_per_s: float = 200.0  # first guess; the model's load measures it

    def record_step(self, ms: float) -> None:
        """One single-token decode step took `ms`."""
        self.generate_ms_per_token += _STEP_ALPHA * (ms - self.generate_ms_per_token)

    def record_prefill(self, tokens: int, ms: float) -> None:
        """A prompt chunk of `tokens` tokens was decoded in `ms`."""
        if tokens >= MIN_PREFILL_SAMPLE and ms > 0:
            rate = tokens / ms * 1000
            self.prefill_tokens_per_s += _PREFILL_ALPHA * (rate - self.prefill_tokens_per_s)

    def step_fits(self, deadline: float, now: float, tokens: float = 1.0) -> bool:
        """Whether a decode step of `tokens` token-times started at `now` ends by `deadline`.

        Times are time.perf_counter() seconds.
        """
        return now + tokens * self.generate_ms_per_token / 1000 <= deadline

    def prompt_tokens_within(self, ms: float) -> int:
        """Prompt tokens that can be evaluated in `ms` at the measured throughput."""
        return int(self.prefill_tokens_per_s * ms / 1000)
