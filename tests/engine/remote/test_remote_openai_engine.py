"""RemoteEngine with engineKind openai through the real pipeline, against a fake vLLM-like
server (vLLM's /tokenize body and max_model_len, no llama-server fields): the prompt goes as
text in the model's FIM template, the streamed answer is cut by our stop rules, a stream that
ends without its finish_reason is a fault, and a bad template is explained."""

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
from smallcode_lsp.engine.remote.engine import RETRY_S, RemoteEngine, connect
from smallcode_lsp.options import Settings
from smallcode_lsp.types import (
    CompletionRequest,
    DocumentSnapshot,
    GenerationParams,
    StopReason,
    Trigger,
)

TEXT = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"
CURSOR = TEXT.index("return ") + len("return ")


class FakeVllm(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "ok"  # ok | cut (the stream ends mid-line without a finish_reason)
    bodies: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, raw: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            models = [{"id": "Qwen/Qwen2.5-Coder-1.5B", "max_model_len": 4096}]
            return self._send(200, json.dumps({"data": models}).encode())
        self._send(404, b'{"detail": "Not Found"}')

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":
            if "prompt" not in body:  # vLLM validates its body: llama-server's is a 400
                return self._send(400, b'{"detail": "prompt: Field required"}')
            count = len(body["prompt"].split())
            return self._send(200, json.dumps({"count": count, "tokens": [1] * count}).encode())
        self.bodies.append(body)
        if body.get("stream") is False:  # background prompt growth: one token, usage
            answer = {
                "choices": [{"text": "x", "index": 0, "finish_reason": "length"}],
                "usage": {
                    "prompt_tokens": 40,
                    "completion_tokens": 1,
                    "prompt_tokens_details": {"cached_tokens": 32},
                },
            }
            return self._send(200, json.dumps(answer).encode())
        chunks: list[dict] = [
            {"choices": [{"text": piece, "index": 0, "finish_reason": None}]}
            for piece in (("a", " + b", "\n", "\nprint") if self.mode == "ok" else ("a",))
        ]
        if self.mode == "ok":
            chunks.append({"choices": [{"text": "", "index": 0, "finish_reason": "length"}]})
            chunks.append({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 5}})
        raw = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
        if self.mode == "ok":
            raw += b"data: [DONE]\n\n"
        self._send(200, raw, "text/event-stream")


@pytest.fixture
def fake() -> Iterator[tuple[str, type[FakeVllm]]]:
    handler = type("Handler", (FakeVllm,), {"mode": "ok", "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


def job(trigger: Trigger = Trigger.INVOKED) -> CompletionJob:
    doc = DocumentSnapshot(uri="file:///w/a.py", text=TEXT, language_id="python", path="/w/a.py")
    request = CompletionRequest(document=doc, offset=CURSOR, trigger=trigger)
    return CompletionJob(request, make_plan(Settings()), ThreadSources())


def test_fim_prompt_as_text_and_a_streamed_answer(fake: tuple[str, type[FakeVllm]]) -> None:
    url, handler = fake
    engine = RemoteEngine(RemoteOptions(url + "/v1/", kind="openai", timeout_ms=2000))
    try:
        info = engine.load(lambda: "", LoadOptions()).result(10)
        assert info.has_fim and info.n_ctx_train == 4096  # qwen picked from the name
        (completion, *_) = engine.complete(job(), CancelToken()).result(10)
        assert completion.text == "a + b"
        sent = handler.bodies[-1]
        assert sent["model"] == "Qwen/Qwen2.5-Coder-1.5B" and sent["stream"] is True
        assert sent["max_tokens"] == Settings().completion.max_tokens
        assert sent["temperature"] == 0.0 and "stop" not in sent
        prompt = sent["prompt"]
        assert prompt.startswith("<|repo_name|>workspace\n<|file_sep|>")  # context first
        assert prompt.endswith(
            "<|fim_prefix|>def add(a, b):\n    return<|fim_suffix|>\n\nprint(add(1, 2))\n"
            "<|fim_middle|>"
        )
    finally:
        engine.close()


def test_a_stream_cut_short_is_a_fault_then_recovers(fake: tuple[str, type[FakeVllm]]) -> None:
    url, handler = fake
    engine = RemoteEngine(RemoteOptions(url, kind="openai", fim_template="none"))
    try:
        assert not engine.load(lambda: "", LoadOptions()).result(10).has_fim
        handler.mode = "cut"
        with pytest.raises(EngineUnavailable, match="closed mid-answer"):
            engine.complete(job(Trigger.AUTOMATIC), CancelToken()).result(10)
        assert "closed mid-answer" in (engine.status().error or "")
        handler.mode = "ok"
        time.sleep(RETRY_S)
        (completion,) = engine.complete(job(Trigger.AUTOMATIC), CancelToken()).result(10)
        assert completion.text == "a + b"
        assert completion.stats.stop_reason is StopReason.STOP_RULE
        assert engine.status().error is None
        assert "<|fim_prefix|>" not in handler.bodies[-1]["prompt"]  # `none`: prefix only
    finally:
        engine.close()


def test_bad_settings_are_explained(fake: tuple[str, type[FakeVllm]]) -> None:
    url, _ = fake
    for options, reason in (
        (RemoteOptions(url, kind="openai", fim_template="<A>{prefix}"), "neither a preset"),
        (RemoteOptions(url, kind="openai", model="gpt-x"), "engineModel 'gpt-x' is not served"),
    ):
        engine = RemoteEngine(options)
        try:
            with pytest.raises(Exception, match=reason):
                engine.load(lambda: "", LoadOptions()).result(10)
            assert reason in (engine.status().error or "")
            with pytest.raises(EngineUnavailable):  # requests are still answered
                engine.complete(job(), CancelToken()).result(10)
        finally:
            engine.close()


def test_prompt_growth_fills_the_prefix_cache_with_one_token(
    fake: tuple[str, type[FakeVllm]],
) -> None:
    url, handler = fake
    model = connect(RemoteOptions(url, kind="openai"))
    try:
        prompt = model.blocks.tokenize("def f():\n    pass\n")
        stats = model.prefill(prompt, GenerationParams(), CancelToken())
        sent = handler.bodies[-1]
        assert (sent["max_tokens"], sent["stream"]) == (1, False)
        assert sent["prompt"] == "def f():\n    pass\n"  # no FIM markers: no template
        assert (stats.prompt_tokens_reused, stats.prompt_tokens_evaluated) == (32, 8)
        assert model.shared_prefix(prompt) == len(prompt)  # remembered as cached
    finally:
        model.close()
