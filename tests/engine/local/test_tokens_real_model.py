"""Prompt tokens from cached blocks are exactly the whole text's tokens (real tokenizer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smallcode_lsp.engine.local.model import LoadedModel
from smallcode_lsp.engine.tokens import BlockTokenizer

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parents[2] / "fixtures"


def test_block_tokens_equal_whole_text_tokens_on_real_code(model: LoadedModel) -> None:
    files = [p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in (".py", ".js", ".go")]
    assert len(files) >= 10
    counter = BlockTokenizer(model.tokenize)
    for path in files:
        text = path.read_text(errors="replace")
        assert counter.tokenize(text) == model.tokenize(text), path
        crlf = text.replace("\n", "\r\n")
        assert counter.tokenize(crlf) == model.tokenize(crlf), path
