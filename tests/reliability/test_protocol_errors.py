"""Every request gets a response, whatever arrives; bad notifications never stop the server.

Real server subprocess, raw frames (tests/reliability/rpc.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.conftest import assert_completes
from tests.reliability.rpc import RawServer, edit, frame, inline_params

pytestmark = [pytest.mark.e2e]

INLINE = "textDocument/inlineCompletion"
# (name, params, expected error code or None: any answer) for requests a typed client can't send.
BAD_REQUESTS: list[tuple[str, Any, int | None]] = [
    # cattrs turns 3 into "3": an unknown document, answered with a null result
    ("uri-not-string", {**inline_params("file:///a.py", 0, 0), "textDocument": {"uri": 3}}, None),
    ("negative-line", inline_params("file:///a.py", -1, 0), -32602),
    ("position-missing", {"textDocument": {"uri": "file:///a.py"}}, -32602),
    ("params-null", None, -32602),
    ("params-list", [1, 2], -32602),
    ("line-float", inline_params("file:///a.py", 1.5, 0), None),  # type: ignore[arg-type]
    ("line-huge", inline_params("file:///a.py", 1 << 64, 0), -32602),
    ("status-params-garbage", "x", None),  # custom method: any params accepted
]


async def test_malformed_requests_are_answered_with_their_id(server: RawServer) -> None:
    ids = {}
    for name, params, _code in BAD_REQUESTS:
        method = "smallcode/status" if name.startswith("status") else INLINE
        ids[name] = await server.request_nowait(method, params)
    for name, _params, code in BAD_REQUESTS:
        response = await server.response(ids[name], timeout=30)
        assert "result" in response or "error" in response, (name, response)
        if code is not None:
            assert response.get("error", {}).get("code") == code, (name, response)
    await assert_completes(server)


async def test_non_jsonrpc_input_gets_errors_and_server_keeps_serving(server: RawServer) -> None:
    await server.send({"id": 501, "method": "x"})  # no "jsonrpc"
    await server.send({"jsonrpc": "2.0", "id": 502, "method": 7})  # method not a string
    await server.send({"jsonrpc": "2.0", "id": 503, "method": "no/suchMethod", "params": {}})
    await server.send({"jsonrpc": "2.0", "id": [1], "method": INLINE})  # invalid id type
    await server.send_bytes(frame(b"{not json"))
    await server.send_bytes(frame(b"\xff\xfe\x00garbage"))
    await server.send_bytes(frame(b"[1, 2, 3]"))
    await server.send_bytes(frame(b'"just a string"'))
    assert (await server.response(501, 30))["error"]["code"] == -32600
    assert (await server.response(502, 30))["error"]["code"] == -32600
    assert (await server.response(503, 30))["error"]["code"] == -32601
    await server.request("smallcode/status", {})  # all of the above were read by now
    codes = sorted(e["error"]["code"] for e in server.null_id_errors)
    # one invalid id, two unparsable bodies, two non-object bodies: answered with id null
    assert codes == [-32700, -32700, -32600, -32600, -32600], server.null_id_errors
    assert not any(n["method"] == "window/showMessage" for n in server.notifications)
    await assert_completes(server)


async def test_bad_notifications_and_edits_never_stop_the_server(server: RawServer) -> None:
    uri = "file:///work/edits.py"
    await server.notify("textDocument/didOpen", {"textDocument": {"uri": 5}})  # wrong types
    await server.notify("textDocument/didChange", None)
    await server.notify("$/cancelRequest", {"id": "never-sent"})
    await server.notify("workspace/didChangeConfiguration", {"settings": {"smallcode": 3}})
    await server.change("file:///never/opened.py", 2, [edit((0, 0), (0, 0), "x")])
    await server.open(uri, "a = 1\nb = '😀'\n")
    changes = [
        edit((50, 0), (60, 9), "past the end\n"),  # range past the end of the document
        edit((1, 9), (0, 0), "reversed"),  # end before start
        edit((1, 6), (1, 7), "inside a surrogate pair"),  # character inside the emoji
        edit((0, 0), (0, 10_000), "x" * 200_000),  # huge insert, character past the line end
        edit((0, 3), (0, 5), "\ud83d"),  # a lone surrogate in the text
    ]
    for version, change in enumerate(changes, start=2):
        await server.change(uri, version, [change])
    for line, character in [(0, 0), (1, 7), (1, 10**6), (10**6, 0)]:  # emoji middle, past ends
        response = await server.inline(uri, line, character)
        assert "result" in response, response  # None or items: never an error
        for item in (response["result"] or {}).get("items", []):  # at the position asked for
            assert item["range"]["start"] == {"line": line, "character": character}, item
    await assert_completes(server)
    assert server.unanswered() == []


async def test_requests_after_shutdown_are_answered(server: RawServer) -> None:
    assert "result" in await server.request("shutdown", None)
    response = await server.request("smallcode/status", {})
    assert response["error"]["code"] == -32600, response


async def test_percent_encoded_uri_gets_completions(server: RawServer) -> None:
    """pygls stores documents by unquoted URI; a lookup by the raw URI found nothing."""
    await assert_completes(server, "file:///my%20project/a%2Bb.py")


async def test_a_frame_claiming_100_gb_is_refused_not_allocated(server: RawServer) -> None:
    """pygls read(content_length) allocated it up front: MemoryError, the server exited."""
    await server.send_bytes(b"Content-Length: 100000000000\r\n\r\n")
    response = await server.request("smallcode/status", {})
    assert "result" in response, response
    assert server.proc.returncode is None
    assert [e["error"]["code"] for e in server.null_id_errors] == [-32600]
    await assert_completes(server)
