from __future__ import annotations

import pytest

from smallcode_lsp.engine.model import LoadedModel, LoadOptions


@pytest.fixture(scope="module")
def model(default_model: str):
    """The default model loaded in-process (engine-level tests), one per test module."""
    loaded = LoadedModel(default_model, LoadOptions(n_ctx=2048))
    yield loaded
    loaded.close()
