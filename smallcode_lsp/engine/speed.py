"""The engine's own measured speed: when a decode step would overrun a request's deadline."""

from __future__ import annotations

from dataclasses import dataclass

_ALPHA = 0.3  # EMA weight of the newest prompt measurement
_STEP_ALPHA = 0.1  # ... of the newest single-token decode step (noisier)


@dataclass
class SpeedMeter:
    prompt_ms_per_token: float = 2.5  # first guesses for a small model on 2 cores
    generate_ms_per_token: float = 40.0

    def record_prompt(self, tokens: int, ms: float) -> None:
        if tokens >= 16:  # short prefills are dominated by fixed overhead
            self.prompt_ms_per_token += _ALPHA * (ms / tokens - self.prompt_ms_per_token)

    def record_step(self, ms: float) -> None:
        """One single-token decode step took `ms`."""
        self.generate_ms_per_token += _STEP_ALPHA * (ms - self.generate_ms_per_token)

    def step_fits(self, deadline: float, now: float, tokens: float = 1.0) -> bool:
        """Whether a decode step of `tokens` token-times started at `now` ends by `deadline`.

        Times are time.perf_counter() seconds.
        """
        return now + tokens * self.generate_ms_per_token / 1000 <= deadline
