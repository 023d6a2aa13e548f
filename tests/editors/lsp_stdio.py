"""A small JSON-RPC client over a server's stdio, to replay what an editor sends, byte for byte."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

OMIT: Any = object()  # `request(method, OMIT)`: no "params" member, as in sendRequest(method)


class LspProcess:
    """Starts `argv`, answers the server's requests the way editors do, records notifications."""

    def __init__(self, argv: list[str], answer: Callable[[str, Any], Any] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.answer = answer or (lambda _method, _params: None)
        self.next_id = 0
        self.responses: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            assert length is not None
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:
                self.server_requests.append(message)
                self._write(
                    {
                        "id": message["id"],
                        "result": self.answer(message["method"], message.get("params")),
                    }
                )
            elif "method" in message:
                self.notifications.append(message)
            else:
                self.responses.setdefault(message["id"], queue.Queue()).put(message)

    def request(self, method: str, params: Any = None, timeout: float = 60.0) -> Any:
        """Sends a request and returns its result; raises on an error response."""
        self.next_id += 1
        rid = self.next_id
        box = self.responses.setdefault(rid, queue.Queue())
        message: dict[str, Any] = {"id": rid, "method": method}
        if params is not OMIT:
            message["params"] = params
        self._write(message)
        try:
            message = box.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"{method}: no answer in {timeout} s; stderr:\n{self.stderr_text()}"
            ) from None
        if "error" in message:
            raise AssertionError(f"{method} failed: {message['error']}")
        return message.get("result")

    def notify(self, method: str, params: Any = None) -> None:
        self._write({"method": method, "params": params})

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; stderr:\n{self.stderr_text()}")

    def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        """Polls `smallcode/status` until the model has loaded."""
        return self.wait_for(
            "state ready",
            lambda: (s := self.request("smallcode/status")) and s.get("state") == "ready" and s,
            timeout,
        )

    def stderr_text(self) -> str:
        return b"".join(self.stderr).decode(errors="replace")[-4000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None, timeout=10)
                self.notify("exit")
                self.proc.wait(timeout=10)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
