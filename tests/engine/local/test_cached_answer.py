"""An earlier answer after the same prompt, still in the KV cache, is drafted whole: asked
again (a warm-up's answer cut by the key, a cancelled request), the model repeats it at a
prefill's rate and goes on from where it stopped."""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import replace

import pytest

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.local.generate import generate
from smallcode_lsp.engine.local.lookup import CachedAnswer
from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.types import GenerationParams


def test_a_cached_answer_is_drafted_while_the_new_one_repeats_it() -> None:
    cached = CachedAnswer([5, 6, 7, 8])
    assert cached.draft(3) == [5, 6, 7]
    cached.append(5)
    cached.append(6)
    assert cached.draft(8) == [7, 8]
    cached.append(9)  # the new answer parts from it: never drafted again
    assert cached.draft(8) == []
    cached.append(7)
    assert cached.draft(8) == []
    assert CachedAnswer([]).draft(4) == []


def _prompt(model: LoadedModel) -> list[int]:
    source = inspect.getsource(textwrap)
    text = source[: source.index("def dedent(")] + "def dedent("
    return [model.bos, *model.tokenize(text)[-1500:]]  # the fixture's context holds 2048


@pytest.mark.e2e
def test_an_answer_cut_short_goes_on_from_the_cache(model: LoadedModel) -> None:
    prompt = _prompt(model)
    params = GenerationParams(max_tokens=40, speculative=False)  # no prompt-lookup drafts
    model.clear_cache()
    cut, cut_stats = generate(model, prompt, replace(params, max_tokens=12), [], CancelToken())
    again, stats = generate(model, prompt, params, [], CancelToken())
    model.clear_cache()
    fresh, fresh_stats = generate(model, prompt, params, [], CancelToken())
    print(
        f"cut {cut_stats.generated_tokens} tokens; asked again: {stats.cached_answer_accepted} "
        f"repeated from the cache, {stats.generate_ms:.0f} ms vs {fresh_stats.generate_ms:.0f} "
        "ms from nothing"
    )
    assert cut_stats.generated_tokens == 12 and cut_stats.cached_answer_accepted == 0
    # The cached answer's tokens, less the last (sampled, never decoded), verified in a batch.
    assert stats.cached_answer_accepted >= 10
    assert fresh_stats.cached_answer_accepted == 0 and fresh_stats.draft_tokens == 0
    # A verify batch and one-token steps are not bit-identical (the float summation order), so
    # a near-tie may flip late in an answer; the first line must agree.
    assert again.startswith(cut.split("\n")[0])
    first_line = fresh[: fresh.find("\n", len(fresh) - len(fresh.lstrip())) + 1]
    assert again.startswith(first_line), (again, fresh)


@pytest.mark.e2e
def test_typing_along_a_cached_answer_drafts_its_rest(model: LoadedModel) -> None:
    prompt = _prompt(model)
    params = GenerationParams(max_tokens=24, speculative=False)
    model.clear_cache()
    generate(model, prompt, params, [], CancelToken())
    answered = list(model.pick_cache(prompt).tokens[len(prompt) :])
    assert len(answered) >= 8
    # The user typed the answer's first three tokens: the prompt now ends with them.
    _, stats = generate(model, prompt + answered[:3], params, [], CancelToken())
    assert stats.cached_answer_accepted >= 4
    # Sampling never repeats an earlier answer by design: nothing is drafted from it.
    _, sampled = generate(
        model, prompt + answered[:3], replace(params, temperature=0.8), [], CancelToken()
    )
    assert sampled.cached_answer_accepted == 0 and sampled.draft_tokens == 0


@pytest.mark.e2e
def test_background_prefills_leave_the_prompt_speed_to_user_requests(model: LoadedModel) -> None:
    """Prompt sizing budgets a user's prompt at the speed of a user's batches; the smaller
    batches of background work (warm-ups, grown prompts) are slower and not counted."""
    from smallcode_lsp.engine.local.generate import prefill

    prompt = _prompt(model)
    model.clear_cache()
    model.speed.prefill_tokens_per_s = 12345.0
    prefill(model, prompt, GenerationParams(background=True), CancelToken())
    assert model.speed.prefill_tokens_per_s == 12345.0
    model.clear_cache()
    prefill(model, prompt, GenerationParams(), CancelToken())
    assert model.speed.prefill_tokens_per_s != 12345.0
