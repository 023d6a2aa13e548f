"""A real llama-server for the remote-engine tests: the binary scripts/build_llama_server.sh
builds (from the llama.cpp the pinned llama-cpp-python vendors), on a free loopback port.

Tests skip, naming the build script, when it has not been built (CI builds it).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from smallcode_lsp.default_model import machine_cache_dir
from smallcode_lsp.engine.cpu import llama_server_args, read_cpu

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "scripts" / "build_llama_server.sh"


def binary() -> Path:
    """Where the build script installs llama-server (it reads the same pin and cache dirs)."""
    pin = re.search(r'"llama-cpp-python==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None, "no llama-cpp-python pin in pyproject.toml"
    return machine_cache_dir() / f"llama.cpp-{pin.group(1)}" / "bin" / "llama-server"


def require_binary() -> Path:
    path = binary()
    if not path.is_file():
        pytest.skip(f"llama-server not built ({path} missing): run {BUILD_SCRIPT}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """One llama-server process; `restart()` brings it back on the same port."""

    def __init__(
        self, model: str, slots: int = 2, ctx: int = 4096, extra: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        self.args = [
            str(require_binary()),
            *("-m", model, "--host", "127.0.0.1", "--port", str(self.port)),
            *("-t", "2", "-c", str(ctx), "-np", str(slots), "--no-webui"),
            *llama_server_args(read_cpu()),  # --no-repack on AMX CPUs (llama.cpp #20824)
            *extra,
        ]
        self.log = Path(tempfile.mkstemp(prefix="llama-server.", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or 503 while loading
            time.sleep(0.1)
        raise TimeoutError(f"llama-server not healthy after {timeout:.0f} s")

    def kill(self) -> None:
        """As a crash would: no goodbye to its clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.unlink(missing_ok=True)

    def get(self, path: str, key: str | None = None) -> Any:
        request = urllib.request.Request(f"{self.url}{path}")
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    def slot(self, slot_id: int, key: str | None = None) -> dict[str, Any]:
        (found,) = [slot for slot in self.get("/slots", key) if slot["id"] == slot_id]
        return dict(found)

    def busy_slots(self, key: str | None = None) -> list[int]:
        return [slot["id"] for slot in self.get("/slots", key) if slot.get("is_processing")]
