"""Model faults: an engine exception mid-generation, and a context too large for memory.

The first runs at unit level with a fake engine (no hooks in production code); the second runs
the real server under an address-space limit, so the huge allocation fails the way it would on
a small machine, without ever touching the shared machine's memory.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from smallcode_lsp.engine.worker import EngineWorker
from smallcode_lsp.options import Settings
from smallcode_lsp.service import CompletionService
from smallcode_lsp.types import CompletionRequest, DocumentSnapshot, Trigger
from tests.fake_engine import FakeEngine, model_info
from tests.reliability.conftest import FAST, assert_completes
from tests.reliability.rpc import RawServer

REQUEST = CompletionRequest(
    document=DocumentSnapshot("file:///f.py", "def f(x):\n    return ", "python", 1, None),
    offset=len("def f(x):\n    return "),
    trigger=Trigger.INVOKED,
)


class DecodeFailed(RuntimeError):
    pass


def test_worker_survives_a_failing_job() -> None:
    worker = EngineWorker()
    try:
        failed = worker.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failed.result(10)
        assert worker.submit(lambda: threading.current_thread().name).result(10) == (
            "smallcode-engine"
        )
        assert worker.wait_idle(10)
    finally:
        worker.stop()


async def test_engine_exception_mid_generation_then_recovery() -> None:
    engine = FakeEngine()
    states: list[str] = []
    service = CompletionService(
        Settings(), engine, on_status=lambda: states.append(service.status.state)
    )
    loading = service.load_model()
    engine.loads[0].set_result(model_info())
    await loading
    try:
        first = asyncio.ensure_future(service.complete(REQUEST))
        await asyncio.sleep(0)
        # The first generation dies half-way, as a llama_decode error would.
        engine.calls[0].future.set_exception(DecodeFailed("llama_decode returned -3"))
        with pytest.raises(DecodeFailed):  # the server turns this into a -32603 response
            await first
        assert service.status.state == "ready", states  # never stuck in "generating"
        second = asyncio.ensure_future(service.complete(REQUEST))
        await asyncio.sleep(0)
        engine.calls[1].answer("x + 1")
        results = await asyncio.wait_for(second, 30)
        assert [r.text for r in results] == ["x + 1"]
        assert service.status_dict()["state"] == "ready"
    finally:
        service.close()


# -- a context too large for memory, on the real server ----------------------------------------

LIMITED = [
    sys.executable,
    "-c",
    "import resource, sys; "
    "resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30)); "
    "from smallcode_lsp.cli import main; sys.exit(main(sys.argv[1:]))",
]


@pytest.mark.e2e
async def test_context_too_large_reports_and_recovers(tmp_path: Path, default_model: str) -> None:
    """nCtx = 1M tokens needs ~18 GB of KV cache for Gemma-3-270M: more than the 6 GB allowed."""
    server = await RawServer.start(tmp_path, launcher=LIMITED)
    try:
        await server.initialize({**FAST, "model": default_model, "nCtx": 1 << 20})
        status = await server.wait_ready(timeout=300)
        assert status["state"] == "error", status
        assert "1048576" in status["error"], status["error"]
        print(f"\nnCtx too large -> {status['error']}")
        for _ in range(100):  # the message follows the state change
            shown = [n["params"]["message"] for n in server.notifications if _is_error(n)]
            if shown:
                break
            await asyncio.sleep(0.05)
        assert any("nCtx" in m or "1048576" in m for m in shown), shown
        uri = "file:///faults/a.py"
        await server.open(uri, "def add(a, b):\n    return ")
        assert (await server.inline(uri, 1, 11))["result"] is None
        settings = {"smallcode": {"nCtx": 4096}}
        await server.notify("workspace/didChangeConfiguration", {"settings": settings})
        for _ in range(600):
            state = (await server.request("smallcode/status", {}))["result"]["state"]
            if state == "ready":
                break
            await asyncio.sleep(0.1)
        assert state == "ready"
        await assert_completes(server)
    finally:
        await server.close()


def _is_error(notification: dict[str, Any]) -> bool:
    return notification.get("method") == "window/showMessage" and (
        notification["params"]["type"] == 1
    )
