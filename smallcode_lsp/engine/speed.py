"""The engine's own measured speed: when a decode step would overrun a request's deadline."""

from __future__ import annotations

from dataclasses import dataclass

_STEP_ALPHA = 0.1  # EMA weight of the newest single-token decode step


@dataclass
class SpeedMeter:
    """Decode step time only: the deadline is checked after the prompt is in the cache, so
    its cost is already spent, measured by the clock rather than estimated."""

    generate_ms_per_token: float = 40.0  # first guess for a small model on 2 cores

    def record_step(self, ms: float) -> None:
        """One single-token decode step took `ms`."""
        self.generate_ms_per_token += _STEP_ALPHA * (ms - self.generate_ms_per_token)

    def step_fits(self, deadline: float, now: float, tokens: float = 1.0) -> bool:
        """Whether a decode step of `tokens` token-times started at `now` ends by `deadline`.

        Times are time.perf_counter() seconds.
        """
        return now + tokens * self.generate_ms_per_token / 1000 <= deadline
