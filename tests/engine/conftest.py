from __future__ import annotations

import pytest

from smallcode_lsp.engine.info import LoadOptions
from smallcode_lsp.engine.local.generate import LocalModel


@pytest.fixture(scope="module")
def model(default_model: str):
    """The default model loaded in-process (engine-level tests), one per test module."""
    loaded = LocalModel(default_model, LoadOptions(n_ctx=2048))
    yield loaded
    loaded.close()
