from __future__ import annotations

from pathlib import Path

import pytest

from smallcode_lsp.engine.model import LoadedModel, LoadOptions

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def default_model() -> str:
    """The embedded default model, assembled once into the user cache."""
    from smallcode_lsp.default_model import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO / "examples"


@pytest.fixture(scope="module")
def model(default_model: str):
    """The default model loaded in-process (engine-level tests), one per test module."""
    loaded = LoadedModel(default_model, LoadOptions(n_ctx=2048))
    yield loaded
    loaded.close()
