"""The resting cursor's warm-up (completion.run.warm_prompt) with the real model: it answers
from the small prompt the first key needs, then grows the whole prompt and, when the rest is
long enough, answers again from it (that answer replaces the first)."""

from __future__ import annotations

import inspect
import json.encoder
from dataclasses import replace

import pytest

from smallcode_lsp.completion.plan import make_plan
from smallcode_lsp.completion.run import warm_prompt
from smallcode_lsp.completion.sizing import PROMPT_TIERS, full_limit
from smallcode_lsp.completion.sources import ContextSources
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions
from smallcode_lsp.engine.local.generate import LocalModel
from smallcode_lsp.options import Settings
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, Trigger

pytestmark = pytest.mark.e2e


def test_a_long_rest_answers_from_the_whole_prompt(default_model: str) -> None:
    model = LocalModel(default_model, LoadOptions(n_ctx=4096))
    try:
        settings = Settings()
        # A 250 ms budget affords only a small tier at a cold spot on any CPU here.
        plan = make_plan(
            replace(settings, completion=replace(settings.completion, latency_budget_ms=250))
        )
        source = inspect.getsource(json.encoder)
        offset = source.index("        chunks = self.iterencode(o, _one_shot=True)") + 8
        path = json.encoder.__file__
        doc = DocumentSnapshot(f"file://{path}", source, "python", 0, path)
        request = CompletionRequest(doc, offset, Trigger.AUTOMATIC)
        answers = warm_prompt(model, request, plan, CancelToken(), ContextSources())
        assert len(answers) == 1 and answers[0].text
        stats = answers[0].stats
        print(f"answered from a {stats.prompt_limit}-token prompt: {answers[0].text!r}")
        assert stats.prompt_limit == full_limit(model, plan) > max(PROMPT_TIERS)
        assert stats.prompt_tokens_evaluated <= 1  # the grown prompt was cached already
    finally:
        model.close()
