"""The quantizer's tests need torch, transformers and llama_cpp; without them they are skipped.

Their tiny checkpoint / GGUF fixtures live in tiny_models.py (shared with tests/engine/)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("llama_cpp")
