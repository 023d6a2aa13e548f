"""Files seen lately stay warm through a shared engine: llama-server keeps the prompts our
slot held before in host RAM (`--cache-ram`, on by default) and brings them back, and our
record of its cache counts on that, so prompt sizing gives a revisited file its full prompt.
Against a server started with `--cache-ram 0` the record learns not to."""

from __future__ import annotations

import inspect
import json.decoder
import json.encoder
import textwrap
from collections.abc import Iterator
from types import ModuleType

import pytest

from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.remote.http import Endpoint, HttpClient
from smallcode_lsp.engine.remote.remote_llama import LlamaServerModel, connect_llama
from smallcode_lsp.engine.remote.remote_model import MISSES_TO_STOP
from smallcode_lsp.types import GenerationParams
from tests.e2e.llama_server import LlamaServer, require_binary

pytestmark = pytest.mark.e2e

FILES: tuple[ModuleType, ...] = (textwrap, json.encoder, json.decoder)


@pytest.fixture(scope="module", params=[(), ("--cache-ram", "0")], ids=["cache-ram", "none"])
def engine(request: pytest.FixtureRequest, default_model: str) -> Iterator[LlamaServerModel]:
    require_binary()
    server = LlamaServer(default_model, slots=1, ctx=4096, extra=request.param)
    model = connect_llama(HttpClient(Endpoint(server.url, timeout_s=60)), "test", 60_000)
    yield model
    model.close()
    server.stop()


def _prompt(model: LlamaServerModel, module: ModuleType) -> list[int]:
    return model.tokenize(inspect.getsource(module)[:4000])


def _ask(model: LlamaServerModel, prompt: list[int]) -> int:
    """Answer after `prompt`; the prompt tokens the engine reported as cached."""
    _, stats = model.generate(prompt, GenerationParams(max_tokens=4), [], CancelToken())
    return stats.prompt_tokens_reused


def test_a_file_seen_three_files_ago_is_still_warm(
    engine: LlamaServerModel, request: pytest.FixtureRequest
) -> None:
    keeps = "cache-ram" in request.node.callspec.id
    first, second, third = (_prompt(engine, module) for module in FILES)
    for prompt in (first, second, third):
        _ask(engine, prompt)
    expected = engine.shared_prefix(first)
    reused = _ask(engine, first)
    print(f"revisit: expected {expected} cached, the engine reused {reused} of {len(first)}")
    assert expected >= len(first) - 1  # we count on the engine's host-RAM copy
    if keeps:
        assert reused >= len(first) - 8  # ... and it was there
        assert engine.slot.restores
    else:
        assert reused == 0
        for _ in range(MISSES_TO_STOP - 1):  # one more miss and the record stops counting
            _ask(engine, second)
            _ask(engine, first)
        assert not engine.slot.restores
        _ask(engine, second)
        assert engine.shared_prefix(first) < 8  # cold there (but the docstring quotes they share)
