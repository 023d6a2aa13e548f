"""The engine's own measured speed, used to size Automatic requests to a latency budget."""

from __future__ import annotations

from dataclasses import dataclass

MIN_TOKENS = 8  # below this a suggestion is rarely worth showing
_ALPHA = 0.3  # EMA weight of the newest measurement


@dataclass
class SpeedMeter:
    prompt_ms_per_token: float = 2.5  # first guesses for a small model on 2 cores
    generate_ms_per_token: float = 40.0

    def record_prompt(self, tokens: int, ms: float) -> None:
        if tokens >= 16:  # short prefills are dominated by fixed overhead
            self.prompt_ms_per_token += _ALPHA * (ms / tokens - self.prompt_ms_per_token)

    def record_generation(self, tokens: int, ms: float) -> None:
        if tokens >= 4:
            self.generate_ms_per_token += _ALPHA * (ms / tokens - self.generate_ms_per_token)

    def max_tokens_within(self, budget_ms: float, prompt_tokens: int, requested: int) -> int:
        """Most tokens to generate so prefill + decode fit `budget_ms` (at least MIN_TOKENS)."""
        remaining = budget_ms - prompt_tokens * self.prompt_ms_per_token
        fit = int(remaining / self.generate_ms_per_token)
        return max(min(MIN_TOKENS, requested), min(requested, fit))
