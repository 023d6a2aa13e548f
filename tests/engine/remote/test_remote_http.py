"""The remote engine's HTTP client against a stdlib server that misbehaves on purpose:
refused keys, garbage, silence, a refused port, a stream cancelled mid-way."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from smallcode_lsp.engine.cancel import Cancelled, CancelToken
from smallcode_lsp.engine.remote.http import (
    AuthRefused,
    BadResponse,
    Endpoint,
    HttpClient,
    Unreachable,
)

KEY = "test-key-123"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/ok":
            self._send(200, b'{"status": "ok"}')
        elif self.path == "/auth":
            if self.headers.get("Authorization") == f"Bearer {KEY}":
                self._send(200, b'{"status": "ok"}')
            else:
                self._send(401, b'{"error": "Invalid API Key"}')
        elif self.path == "/garbage":
            self._send(200, b"<html>surprise</html>")
        elif self.path == "/loading":
            self._send(503, b'{"error": "Loading model"}')
        elif self.path == "/slow":
            time.sleep(1.5)
            with contextlib.suppress(OSError):  # the client gave up
                self._send(200, b"{}")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        count = 3 if self.path == "/short" else 10_000
        with contextlib.suppress(OSError):  # the client went away
            for i in range(count):
                data = f'data: {{"content": "{i} ", "tokens": [{i}]}}\n\n'.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_json_call_and_kept_connection(url: str) -> None:
    client = HttpClient(Endpoint(url))
    assert client.get_json("/ok") == {"status": "ok"}
    assert client.get_json("/ok") == {"status": "ok"}
    client.close()


def test_api_key_sent_as_bearer_and_refusal_named(url: str) -> None:
    with pytest.raises(AuthRefused, match="HTTP 401"):
        HttpClient(Endpoint(url)).get_json("/auth")
    assert HttpClient(Endpoint(url, KEY)).get_json("/auth") == {"status": "ok"}
    with pytest.raises(AuthRefused) as refused:
        HttpClient(Endpoint(url, "wrong-key")).get_json("/auth")
    assert "wrong-key" not in str(refused.value)


def test_garbage_loading_and_silence(url: str) -> None:
    with pytest.raises(BadResponse, match="garbage"):
        HttpClient(Endpoint(url)).get_json("/garbage")
    with pytest.raises(Unreachable, match="503"):
        HttpClient(Endpoint(url)).get_json("/loading")
    began = time.monotonic()
    with pytest.raises(Unreachable, match="no answer"):
        HttpClient(Endpoint(url, timeout_s=0.3)).get_json("/slow")
    assert time.monotonic() - began < 1.2


def test_nobody_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Unreachable, match="unreachable at"):
        HttpClient(Endpoint(f"http://127.0.0.1:{port}", timeout_s=1)).get_json("/ok")


def test_stream_reads_every_event_then_reuses_the_connection(url: str) -> None:
    client = HttpClient(Endpoint(url))
    events = list(client.stream("/short", {}, CancelToken()))
    assert [e["tokens"] for e in events] == [[0], [1], [2]]
    assert client.get_json("/ok") == {"status": "ok"}


def test_a_cancel_closes_the_stream_at_once(url: str) -> None:
    client = HttpClient(Endpoint(url))
    cancel = CancelToken()
    seen = []
    threading.Timer(0.2, cancel.cancel).start()
    began = time.monotonic()
    with pytest.raises(Cancelled):
        for event in client.stream("/long", {}, cancel):
            seen.append(event)
            time.sleep(0.001)
    assert time.monotonic() - began < 1.0
    assert seen
    assert client.get_json("/ok") == {"status": "ok"}  # a new connection


def test_bad_urls() -> None:
    for bad in ("localhost:8080", "ftp://host/", "http://"):
        with pytest.raises(ValueError):
            HttpClient(Endpoint(bad))


def test_a_ca_file_that_is_no_pem_bundle_is_explained(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    for path in (bad, tmp_path / "missing.pem"):
        with pytest.raises(ValueError, match=f"engineCaFile {path}: not a readable PEM CA bundle"):
            HttpClient(Endpoint("https://127.0.0.1:1", ca_file=str(path)))
    HttpClient(Endpoint("http://127.0.0.1:1", ca_file=str(bad)))  # http: not read
