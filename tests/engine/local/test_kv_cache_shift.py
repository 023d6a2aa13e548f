"""KV shift reuse: text deleted early in the prompt does not make the rest be decoded again."""

from __future__ import annotations

import inspect
import json.encoder
from dataclasses import replace

import pytest

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.local.generate import generate
from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.types import GenerationParams

pytestmark = pytest.mark.e2e


def test_deleting_a_function_early_in_the_prompt_reuses_what_follows(model: LoadedModel) -> None:
    source = inspect.getsource(json.encoder)
    start = source.index("def py_encode_basestring(s):")
    end = source.index("encode_basestring = (c_encode_basestring")
    head, removed, tail = source[:start], source[start:end], source[end:]
    tail = tail[: tail.index("class JSONEncoder")] + "def encode_all(values):\n    return ["
    tokens_before = [
        model.bos,
        *model.tokenize(head),
        *model.tokenize(removed),
        *model.tokenize(tail),
    ]
    tokens_after = [model.bos, *model.tokenize(head), *model.tokenize(tail)]
    params = GenerationParams(max_tokens=8)
    generate(model, tokens_before, params, [], CancelToken())
    shifted_text, shifted = generate(
        model, tokens_after, replace(params, speculative=False), [], CancelToken()
    )
    fresh_text, fresh = generate(
        model, tokens_after, replace(params, reuse=False, speculative=False), [], CancelToken()
    )
    print(
        f"shift: {shifted.prompt_tokens_shifted} shifted, {shifted.prompt_tokens_evaluated} "
        f"of {shifted.prompt_tokens} evaluated ({shifted.prompt_ms:.0f} ms vs fresh "
        f"{fresh.prompt_ms:.0f} ms); {shifted_text!r} vs {fresh_text!r}"
    )
    tail_tokens = len(tokens_after) - 1 - len(model.tokenize(head))
    assert shifted.prompt_tokens_shifted >= tail_tokens - 2
    assert shifted.prompt_tokens_evaluated <= 4
    assert fresh.prompt_tokens_evaluated == len(tokens_after)
    # The shifted chunk saw the deleted text when it was decoded: the answer may drift a
    # little from a fresh evaluation, but must still be the model continuing the same code.
    assert shifted_text.strip() and shifted_text.split()[0][:3] == fresh_text.split()[0][:3]


def test_shift_off_reevaluates_the_tail(model: LoadedModel) -> None:
    text = "def a():\n    return 1\n\n" * 6 + "def b():\n    return 2\n" * 6
    cut = text.index("def b")
    first = [model.bos, *model.tokenize(text)]
    second = [model.bos, *model.tokenize(text[:20]), *model.tokenize(text[cut:])]
    generate(model, first, GenerationParams(max_tokens=2), [], CancelToken())
    _, stats = generate(
        model, second, GenerationParams(max_tokens=2, shift_chunk=0), [], CancelToken()
    )
    assert stats.prompt_tokens_shifted == 0
    assert stats.prompt_tokens_evaluated >= len(second) - len(model.tokenize(text[:20])) - 2
