"""Fixtures every test folder can reach: the default model, and the tiny MoE checkpoints / GGUFs
(tests/quantize/tiny_models.py) used by the quantizer's and the engine's tests."""

from __future__ import annotations

import pytest

from tests.quantize.tiny_models import checkpoint, gguf_file

__all__ = ["checkpoint", "default_model", "gguf_file"]


@pytest.fixture(scope="session")
def default_model() -> str:
    """The embedded default model, assembled once into the user cache."""
    from smallcode_lsp.default_model import default_model_path

    return default_model_path()
