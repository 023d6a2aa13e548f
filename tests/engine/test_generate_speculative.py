"""Prompt-lookup speculative decoding gives exactly the plain greedy output, in fewer steps."""

from __future__ import annotations

import inspect
import json.encoder
import textwrap
from dataclasses import replace

import pytest

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.generate import generate
from smallcode_lsp.engine.model import LoadedModel
from smallcode_lsp.types import GenerationParams

pytestmark = pytest.mark.e2e


def prompts() -> list[str]:
    encoder = inspect.getsource(json.encoder)
    wrap = inspect.getsource(textwrap)
    cut = encoder.index("    def iterencode(self, o, _one_shot=False):")
    return [
        encoder[:cut] + "    def iterencode(self, o, _one_shot=False):\n",
        wrap[: wrap.index("def shorten(")] + "def shorten(text, width, **kwargs):\n",
        "numbers = [" + ", ".join(str(i) for i in range(1, 30)) + ", ",
    ]


@pytest.mark.parametrize("index", range(3))
def test_speculative_output_equals_greedy(model: LoadedModel, index: int) -> None:
    text = prompts()[index]
    tokens = [model.bos, *model.tokenize(text)[-1500:]]
    params = GenerationParams(max_tokens=48)
    plain, plain_stats = generate(
        model, tokens, replace(params, reuse=False, speculative=False), [], CancelToken()
    )
    fast, fast_stats = generate(
        model, tokens, replace(params, reuse=False, speculative=True), [], CancelToken()
    )
    print(
        f"prompt {index}: drafted {fast_stats.draft_tokens}, accepted "
        f"{fast_stats.draft_accepted}, {plain_stats.generate_ms:.0f} -> "
        f"{fast_stats.generate_ms:.0f} ms"
    )
    assert fast == plain
    assert fast_stats.generated_tokens == plain_stats.generated_tokens
    assert plain_stats.draft_tokens == 0
