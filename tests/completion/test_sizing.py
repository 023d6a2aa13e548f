"""Prompt sizing: the largest prompt whose uncached part the time budget pays for, with a fake
model (a character tokenizer, a settable prompt speed and cached prefix)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from smallcode_lsp.completion.plan import make_plan
from smallcode_lsp.completion.sizing import (
    PROMPT_SHARE,
    PROMPT_TIERS,
    answer_deadline,
    full_limit,
    sized_prompt,
)
from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.engine.info import FimTokens
from smallcode_lsp.engine.speed import SpeedMeter
from smallcode_lsp.engine.tokens import BlockTokenizer
from smallcode_lsp.options import CompletionSettings, Settings
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, Trigger

# One token per character: prompt sizes are easy to reason about.
TEXT = "".join(f"value_{i:05d} = compute({i})\n" for i in range(400)) + "result = "


def tokenize(text: str) -> list[int]:
    return [ord(c) for c in text]


@dataclass
class FakeModel:
    n_ctx: int = 4096
    fim: FimTokens = field(default_factory=lambda: FimTokens(None, None, None))
    bos: int | None = 1
    add_bos: bool = True
    speed: SpeedMeter = field(default_factory=SpeedMeter)
    cached: list[int] = field(default_factory=list)
    blocks: BlockTokenizer = field(default_factory=lambda: BlockTokenizer(tokenize))

    def count_tokens(self, text: str) -> int:
        return len(text)

    def shared_prefix(self, tokens: Sequence[int]) -> int:
        n = 0
        for a, b in zip(self.cached, tokens, strict=False):
            if a != b:
                break
            n += 1
        return n


def request(trigger: Trigger = Trigger.AUTOMATIC, text: str = TEXT) -> CompletionRequest:
    doc = DocumentSnapshot("file:///big.py", text, "python", 1)
    return CompletionRequest(doc, len(text), trigger)


def plan(budget_ms: int = 1000, context: bool = False):
    completion = CompletionSettings(latency_budget_ms=budget_ms, context=context, shaping=False)
    return make_plan(Settings(completion=completion))


def sized(model: FakeModel, req: CompletionRequest, the_plan=None, sources=None):
    the_plan = the_plan or plan()
    return sized_prompt(model, req, the_plan, sources or ContextSources(), None)  # type: ignore[arg-type]


def test_a_cold_spot_gets_the_largest_prompt_its_budget_pays_for() -> None:
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 400  # 1000 ms x 0.75 -> 300 tokens affordable
    prompt = sized(model, request())
    assert prompt.limit == 256
    assert len(prompt.tokens) <= 256 + 1


def test_a_faster_engine_gets_a_larger_prompt() -> None:
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 1500  # 1125 tokens affordable
    assert sized(model, request()).limit == 1024


def test_a_cached_full_prompt_is_used_whatever_the_speed() -> None:
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 400
    the_plan = plan()
    full = sized(replace(model, speed=SpeedMeter(prefill_tokens_per_s=1e9)), request(), the_plan)
    assert full.limit == full_limit(model, the_plan)  # type: ignore[arg-type]
    model.cached = list(full.tokens)  # grown in the background
    typed = request(text=TEXT + "c")
    assert sized(model, typed, the_plan).limit == full.limit


def test_nothing_affordable_takes_the_smallest() -> None:
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 10
    assert sized(model, request()).limit == min(PROMPT_TIERS)


def test_invoked_requests_get_their_own_larger_budget() -> None:
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 400  # 2500 ms x 0.75 -> 750 tokens, Automatic 300
    invoked = sized(model, request(Trigger.INVOKED))
    assert invoked.limit > sized(model, request()).limit
    assert len(invoked.tokens) <= 750


def test_no_budget_means_the_full_prompt() -> None:
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 10
    the_plan = plan(budget_ms=0)
    assert sized(model, request(), the_plan).limit == full_limit(model, the_plan)  # type: ignore[arg-type]
    invoked = replace(the_plan, invoked_budget_ms=0)
    assert sized(model, request(Trigger.INVOKED), invoked).limit == full_limit(model, invoked)  # type: ignore[arg-type]


def test_a_small_prompt_keeps_its_front_while_the_user_types() -> None:
    """Each size keeps its own stable window start: the next keystroke reuses the cache."""
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 400
    sources = ContextSources()
    the_plan = plan(context=True)
    first = sized(model, request(), the_plan, sources)
    model.cached = list(first.tokens)
    text = TEXT
    for char in "compute(1)":
        text += char
        nxt = sized(model, request(text=text), the_plan, sources)
        assert nxt.limit == first.limit
        shared = model.shared_prefix(nxt.tokens)
        assert len(nxt.tokens) - shared <= 3, (len(nxt.tokens), shared)
        model.cached = list(nxt.tokens)
    assert PROMPT_SHARE < 1


def test_a_warm_spot_answers_by_the_next_key_a_cold_one_by_its_own_deadline() -> None:
    """A burst's first key (warm_deadline set) answers by when the next key is due if only a
    few prompt tokens are not cached; with most of the prompt to evaluate it keeps the whole
    budget and finishes its line (a lone key at a cold spot)."""
    model = FakeModel()
    model.speed.prefill_tokens_per_s = 400  # 94 ms x 0.5 -> ~18 tokens
    now = time.perf_counter()
    tokens = list(range(1000))
    req = replace(request(), deadline=now + 1.0, finish_line=True, warm_deadline=now + 0.094)
    model.cached = tokens[:-2]  # warm: two tokens to evaluate
    assert answer_deadline(model, req, tokens) == (req.warm_deadline, False)  # type: ignore[arg-type]
    model.cached = tokens[:500]  # cold: 500 tokens to evaluate
    assert answer_deadline(model, req, tokens) == (req.deadline, True)  # type: ignore[arg-type]
    plain = replace(req, warm_deadline=None)  # in a burst, or the user's pace not known yet
    model.cached = tokens
    assert answer_deadline(model, plain, tokens) == (plain.deadline, True)  # type: ignore[arg-type]
