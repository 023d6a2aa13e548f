"""Property-based protocol fuzzing against the real server subprocess.

Hypothesis builds batches of adversarial traffic: requests and notifications with wrong types,
missing fields, negative/huge positions, positions inside a surrogate pair, unknown URIs,
overlapping and out-of-range edits, huge inserts, garbage bytes and non-object JSON.
After each batch: every request id got a response (result or error), every unreadable frame got
exactly one id-null error, and the process is alive. At the end it still completes correctly.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.conftest import FAST, assert_completes
from tests.reliability.rpc import RawServer, frame

pytestmark = [pytest.mark.e2e]
T = TypeVar("T")

OPEN_URI = "file:///fuzz/open%20doc.py"
OPEN_TEXT = "import os\n\ndef f(x):\n    s = '😀😀'  # emoji\r\n    return x\n"
REQUESTS = [
    "textDocument/inlineCompletion",
    "textDocument/completion",
    "smallcode/status",
    "textDocument/hover",  # not served: -32601
    "workspace/executeCommand",
    "initialize",  # a second one: -32600
]
NOTIFICATIONS = [
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "workspace/didChangeConfiguration",
    "$/cancelRequest",
    "textDocument/didShowCompletion",
    "textDocument/didPartiallyAcceptCompletion",
    "no/such/notification",
]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
numbers = st.sampled_from([0, 1, 3, 4, 5, 6, 7, -1, 2**31 - 1, 2**31, 2**53, 10**6]) | st.integers(
    -5, 40
)
# a lone surrogate, huge text, ordinary text and line breaks of every kind
edit_texts = (
    st.text(max_size=30)
    | st.sampled_from(["\ud83d", "\ude00", "\r\n", "\r", "\x00", "\u2028", "😀"])
    | st.just("y" * 20_000)
)
uris = st.sampled_from([OPEN_URI, "file:///fuzz/open doc.py", "file:///nope.py", "", "::"]) | (
    st.text(max_size=20)
)
positions = st.fixed_dictionaries({"line": numbers, "character": numbers}) | json_values
ranges = st.fixed_dictionaries({"start": positions, "end": positions})
changes = st.lists(
    st.fixed_dictionaries({"range": ranges, "text": edit_texts}) | json_values, max_size=3
)
text_document = st.fixed_dictionaries({"uri": uris}) | json_values


def typed_params(method: str) -> st.SearchStrategy[Any]:
    """Params shaped like the method's, with adversarial values inside."""
    if method in ("textDocument/inlineCompletion", "textDocument/completion", "textDocument/hover"):
        return st.fixed_dictionaries(
            {"textDocument": text_document, "position": positions},
            optional={"context": st.fixed_dictionaries({"triggerKind": numbers}) | json_values},
        )
    if method == "textDocument/didChange":
        return st.fixed_dictionaries(
            {
                "textDocument": st.fixed_dictionaries({"uri": uris, "version": numbers}),
                "contentChanges": changes,
            }
        )
    if method == "textDocument/didOpen":
        item = {"uri": uris, "languageId": st.text(max_size=8), "version": numbers}
        return st.fixed_dictionaries(
            {"textDocument": st.fixed_dictionaries({**item, "text": edit_texts})}
        )
    if method == "workspace/executeCommand":
        return st.fixed_dictionaries(
            {"command": st.sampled_from(["smallcode.accepted", "x"]), "arguments": json_values}
        )
    return json_values


def params_for(method: str) -> st.SearchStrategy[Any]:
    return typed_params(method) | json_values


request_msgs = st.sampled_from(REQUESTS).flatmap(
    lambda m: st.tuples(st.just("request"), st.just(m), params_for(m))
)
notification_msgs = st.sampled_from(NOTIFICATIONS).flatmap(
    lambda m: st.tuples(st.just("notify"), st.just(m), params_for(m))
)
garbage = st.tuples(
    st.just("garbage"), st.just(""), st.binary(min_size=1, max_size=40).filter(lambda b: b.strip())
)
non_objects = st.tuples(st.just("non-object"), st.just(""), st.lists(json_scalars, max_size=3))
batches = st.lists(request_msgs | notification_msgs | garbage | non_objects, min_size=1, max_size=8)


class ServerThread:
    """One server for the whole module, driven from a private event loop thread."""

    def __init__(self, tmp: Path, model: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: RawServer = self.run(RawServer.start(tmp))
        self.run(self.server.initialize({**FAST, "model": model}))
        assert self.run(self.server.wait_ready())["state"] == "ready"
        self.run(self.server.open(OPEN_URI, OPEN_TEXT))
        self.garbage_sent = 0
        self.ids = itertools.count(10_000)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory, default_model: str
) -> Iterator[ServerThread]:
    st_ = ServerThread(tmp_path_factory.mktemp("fuzz"), default_model)
    yield st_
    st_.close()


async def send_batch(ctx: ServerThread, batch: list[tuple[str, str, Any]]) -> None:
    server = ctx.server
    for kind, method, payload in batch:
        if kind == "request":
            await server.request_nowait(method, payload, msg_id=next(ctx.ids))
        elif kind == "notify":
            await server.notify(method, payload)
        elif kind == "garbage":
            ctx.garbage_sent += 1
            await server.send_bytes(frame(payload))
        else:
            ctx.garbage_sent += 1
            await server.send(payload)
    await server.wait_all_answered(timeout=120)
    # A status round trip: every frame before it was read and handled by now.
    await server.request("smallcode/status", {})


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(batch=batches)
def test_fuzzed_traffic_is_always_answered(
    fuzz_server: ServerThread, batch: list[tuple[str, str, Any]]
) -> None:
    fuzz_server.run(send_batch(fuzz_server, batch))
    server = fuzz_server.server
    assert server.proc.returncode is None, server.log_tail()
    assert server.unanswered() == []
    assert len(server.null_id_errors) == fuzz_server.garbage_sent, server.null_id_errors[-3:]
    assert not any(
        n.get("method") == "window/showMessage" and n["params"]["type"] == 1
        for n in server.notifications
    )


def test_after_fuzzing_completions_still_work(fuzz_server: ServerThread) -> None:
    server = fuzz_server.server
    fuzz_server.run(assert_completes(server, "file:///fuzz/after.py"))
    requests = len(server.sent_ids)
    print(
        f"\nfuzz: {server.messages_sent} messages sent, {requests} requests all answered, "
        f"{fuzz_server.garbage_sent} unreadable frames -> "
        f"{len(server.null_id_errors)} id-null errors"
    )
    assert server.messages_sent > 300
