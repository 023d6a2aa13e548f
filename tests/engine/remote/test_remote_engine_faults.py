"""RemoteEngine through the real pipeline against a fake llama-server that turns bad on demand:
garbage, silence, a refused key. Every job is answered (EngineUnavailable: the scheduler's
empty answer), the status says why, and the engine serves again once the server does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from smallcode_lsp.completion.job import CompletionJob
from smallcode_lsp.completion.plan import make_plan
from smallcode_lsp.completion.sources import ThreadSources
from smallcode_lsp.engine.base import EngineUnavailable
from smallcode_lsp.engine.cancel import CancelToken
from smallcode_lsp.engine.info import LoadOptions, RemoteOptions
from smallcode_lsp.engine.remote.engine import RETRY_S, RemoteEngine
from smallcode_lsp.options import Settings
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, StopReason, Trigger

PROPS = {
    "default_generation_settings": {"n_ctx": 2048},
    "total_slots": 4,
    "model_path": "/models/fake.gguf",
    "bos_token": "<bos>",
}
TEXT = "def add(a, b):\n    return "


class FakeLlamaServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "ok"  # ok | garbage | slow | auth
    bodies: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, value: object, status: int = 200) -> None:
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.mode == "auth":
            return self._json({"error": "Invalid API Key"}, 401)
        if self.path == "/props":
            return self._json(PROPS)
        if self.path == "/v1/models":
            return self._json({"data": [{"meta": {"n_vocab": 300, "n_params": 1000}}]})
        return self._json({"status": "ok"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":
            if body.get("with_pieces"):  # facts: a BOS, no FIM tokens
                if body["content"] == "":
                    return self._json({"tokens": [{"id": 2, "piece": "<bos>"}]})
                return self._json({"tokens": [{"id": 7, "piece": "<"}, {"id": 8, "piece": "x"}]})
            return self._json({"tokens": [ord(c) for c in body["content"]]})
        self.bodies.append(body)
        if self.mode == "slow":
            time.sleep(1.0)
        events = [
            {"content": "a", "tokens": [97], "stop": False},
            {"content": " + b", "tokens": [43, 98], "stop": False},
            {"content": "\n", "tokens": [10], "stop": False},
        ]
        raw = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
        if self.mode == "garbage":
            raw = b"data: <html>oops</html>\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def fake() -> Iterator[tuple[str, type[FakeLlamaServer]]]:
    handler = type("Handler", (FakeLlamaServer,), {"mode": "ok", "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


def job() -> CompletionJob:
    doc = DocumentSnapshot(uri="file:///w/a.py", text=TEXT, language_id="python", path="/w/a.py")
    request = CompletionRequest(document=doc, offset=len(TEXT), trigger=Trigger.AUTOMATIC)
    return CompletionJob(request, make_plan(Settings()), ThreadSources())


def test_answers_faults_and_recovers(fake: tuple[str, type[FakeLlamaServer]]) -> None:
    url, handler = fake
    engine = RemoteEngine(RemoteOptions(url, timeout_ms=400, client="ann@box:/w"))
    try:
        info = engine.load(lambda: "", LoadOptions()).result(10)
        assert info.path == "/models/fake.gguf" and not info.has_fim
        (completion,) = engine.complete(job(), CancelToken()).result(10)
        assert completion.text == "a + b"
        assert completion.stats.stop_reason is StopReason.STOP_RULE
        sent = handler.bodies[-1]
        assert sent["prompt"][0] == 2  # our BOS, then our own tokens
        assert 0 <= sent["id_slot"] < 4 and sent["stream"] and sent["cache_prompt"]

        handler.mode = "garbage"
        with pytest.raises(EngineUnavailable, match="unreadable event"):
            engine.complete(job(), CancelToken()).result(10)
        assert "unreadable event" in (engine.status().error or "")
        began = time.monotonic()  # within RETRY_S: answered at once, no call made
        calls = len(handler.bodies)
        with pytest.raises(EngineUnavailable):
            engine.complete(job(), CancelToken()).result(10)
        assert time.monotonic() - began < 0.2 and len(handler.bodies) == calls

        handler.mode = "slow"
        time.sleep(RETRY_S)
        began = time.monotonic()
        with pytest.raises(EngineUnavailable, match=r"no answer in 0\.4 s"):
            engine.complete(job(), CancelToken()).result(10)
        assert time.monotonic() - began < 1.0  # the timeout, not the server, ended it

        handler.mode = "ok"
        time.sleep(RETRY_S)
        (completion,) = engine.complete(job(), CancelToken()).result(10)
        assert completion.text == "a + b"
        assert engine.status().error is None
    finally:
        engine.close()


def test_a_refused_key_is_explained_without_the_key(
    fake: tuple[str, type[FakeLlamaServer]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = fake
    handler.mode = "auth"
    monkeypatch.setenv("FAKE_ENGINE_KEY", "sekrit-value")
    engine = RemoteEngine(RemoteOptions(url, api_key_env="FAKE_ENGINE_KEY"))
    try:
        with pytest.raises(Exception, match="refused the API key"):
            engine.load(lambda: "", LoadOptions()).result(10)
        error = engine.status().error or ""
        assert "FAKE_ENGINE_KEY holds a key the engine refused" in error
        assert "sekrit" not in error and "sekrit" not in repr(engine.status())
    finally:
        engine.close()


def test_an_unknown_kind_is_explained(fake: tuple[str, type[FakeLlamaServer]]) -> None:
    engine = RemoteEngine(RemoteOptions(fake[0], kind="tgi"))
    try:
        with pytest.raises(Exception, match="engineKind 'tgi' is not one of llama-server, openai"):
            engine.load(lambda: "", LoadOptions()).result(10)
    finally:
        engine.close()
