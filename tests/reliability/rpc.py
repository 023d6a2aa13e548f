"""A raw JSON-RPC client for the real server subprocess: frames are written by hand.

Unlike pygls' typed client it can send anything: wrong types, missing fields, garbage bytes.
It records every response by id, so a test can assert that each request was answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

LAUNCHER = [sys.executable, "-m", "smallcode_lsp.cli"]
SERVER_ARGS = ["serve", "--log-level", "WARNING"]
UNANSWERED = object()


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """The server process, spoken to over stdio with hand-made frames."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.proc = proc
        self.stderr_path = stderr_path
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.null_id_errors: list[dict[str, Any]] = []
        self.sent_ids: list[Any] = []
        self.messages_sent = 0
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def start(
        cls, tmp: Path, *extra: str, launcher: list[str] | None = None, env: dict | None = None
    ) -> RawServer:
        stderr_path = tmp / f"server-{time.monotonic_ns()}.log"
        with stderr_path.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *(launcher or LAUNCHER),
                *SERVER_ARGS,
                *extra,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env={**os.environ, **(env or {})},
                limit=64 << 20,
            )
        return cls(proc, stderr_path)

    # -- sending -------------------------------------------------------------------------------

    async def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.messages_sent += 1
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def send(self, message: Any) -> None:
        await self.send_bytes(frame(json.dumps(message).encode()))

    async def notify(self, method: str, params: Any = None) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request_nowait(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        """Send a request; its answer is collected by the reader. Returns the id used."""
        msg_id = next(self._ids) if msg_id is None else msg_id
        self.sent_ids.append(msg_id)
        await self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id

    async def request(
        self, method: str, params: Any = None, timeout: float = 60.0
    ) -> dict[str, Any]:
        msg_id = await self.request_nowait(method, params)
        return await self.response(msg_id, timeout)

    async def response(self, msg_id: Any, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while msg_id not in self.responses:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.returncode is not None:
                raise TimeoutError(f"no response to id {msg_id!r}; server log:\n{self.log_tail()}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.5))
        return self.responses[msg_id]

    async def wait_all_answered(self, timeout: float = 60.0) -> None:
        """Every request id sent so far has a response (result or error)."""
        for msg_id in list(self.sent_ids):
            await self.response(msg_id, timeout)

    def unanswered(self) -> list[Any]:
        return [i for i in self.sent_ids if i not in self.responses]

    # -- reading -------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "server sent a frame without Content-Length"
            message = json.loads(await stdout.readexactly(length))
            await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server: answer it
            await self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
        elif message.get("id") is None:
            self.null_id_errors.append(message)
        else:
            self.responses[message["id"]] = message
        self._arrived.set()

    # -- session helpers -----------------------------------------------------------------------

    async def initialize(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        capabilities = {"textDocument": {"inlineCompletion": {}, "synchronization": {}}}
        params = {"processId": None, "rootUri": None, "capabilities": capabilities}
        params["initializationOptions"] = options or {}
        result = await self.request("initialize", params)
        await self.notify("initialized", {})
        return result

    async def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = (await self.request("smallcode/status", {}))["result"]
            if status["state"] in ("ready", "error", "disabled", "fallback"):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"server still {status['state']}")
            await asyncio.sleep(0.1)

    async def open(self, uri: str, text: str, language: str = "python") -> None:
        item = {"uri": uri, "languageId": language, "version": 1, "text": text}
        await self.notify("textDocument/didOpen", {"textDocument": item})

    async def change(self, uri: str, version: int, changes: list[dict[str, Any]]) -> None:
        params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}
        await self.notify("textDocument/didChange", params)

    async def inline(
        self, uri: str, line: int, character: int, timeout: float = 120.0
    ) -> dict[str, Any]:
        return await self.request(
            "textDocument/inlineCompletion", inline_params(uri, line, character), timeout
        )

    async def close(self, timeout: float = 30.0) -> int | None:
        """shutdown + exit; returns the exit code (killed if it does not exit in time)."""
        if self.proc.returncode is None:
            with contextlib.suppress(TimeoutError, ConnectionError):
                await self.request("shutdown", None, timeout)
                await self.notify("exit", None)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        return self.proc.returncode

    def log_tail(self, chars: int = 4000) -> str:
        return self.stderr_path.read_text(errors="replace")[-chars:]


def inline_params(uri: str, line: int, character: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 2},
    }


def pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def edit(start: tuple[int, int], end: tuple[int, int], text: str) -> dict[str, Any]:
    return {"range": {"start": pos(*start), "end": pos(*end)}, "text": text}
