"""llama.cpp's own tools as references: llama-server and llama-bench built from the llama.cpp that
the pinned llama-cpp-python vendors (scripts/build_llama_server.sh), a llama-server process on a
free loopback port, and a llama.vim-style client of it (the reference row of benchmarks/latency.py).

    .venv/bin/python benchmarks/llama_server.py   # builds if needed, starts, asks once, stops
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from smallcode_lsp.default_model import machine_cache_dir
from smallcode_lsp.engine.cpu import llama_server_args, read_cpu

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "scripts" / "build_llama_server.sh"
TOOLS = ("llama-server", "llama-bench")


def pinned_version() -> str:
    """The llama-cpp-python version pyproject.toml pins (the build script reads the same pin)."""
    match = re.search(r'"llama-cpp-python==([^"]+)"', (ROOT / "pyproject.toml").read_text())
    if match is None:
        raise LookupError("no llama-cpp-python==<version> pin in pyproject.toml")
    return match.group(1)


def install_dir() -> Path:
    """The build script's install folder: bin/ (the tools) and source/ (the llama.cpp tree)."""
    return machine_cache_dir() / f"llama.cpp-{pinned_version()}"


def source_dir() -> Path | None:
    """The vendored llama.cpp source tree, once the build script has run."""
    source = install_dir() / "source"
    return source if source.is_dir() else None


def bin_dir(build: bool = True) -> Path:
    """Where llama-server and llama-bench are; runs the build script (~9 min on 2 cores) if not."""
    bins = install_dir() / "bin"
    if all((bins / name).is_file() for name in TOOLS):
        return bins
    if not build:
        raise FileNotFoundError(f"llama.cpp tools not built: run {BUILD_SCRIPT}")
    print("building llama-server and llama-bench (once; ~9 min on 2 cores)", file=sys.stderr)
    done = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(done.stdout.strip().splitlines()[-1])


def tool(name: str, build: bool = True) -> Path:
    return bin_dir(build) / name


@cache
def server_help() -> str:
    done = subprocess.run(
        [str(tool("llama-server")), "--help"], capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_model() -> str:
    from smallcode_lsp.default_model import default_model_path

    return default_model_path()


@dataclass
class LlamaServer:
    """A running llama-server; `stop()` (or leaving the `with` block) ends it."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> LlamaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    model: str | None = None,
    threads: int = 2,
    ctx: int = 4096,
    extra: tuple[str, ...] = (),
    timeout: float = 120.0,
    slots: int = 1,
) -> LlamaServer:
    """llama-server on a free loopback port, `slots` slots sharing `ctx` (default one: llama.vim's
    requests share one prompt cache); returns once /health answers 200."""
    port = free_port()
    args = [str(tool("llama-server")), "-m", model or default_model()]
    args += ["--host", "127.0.0.1", "--port", str(port), "-t", str(threads), "-c", str(ctx)]
    args += ["-np", str(slots), *llama_server_args(read_cpu()), *extra]
    if "--no-webui" in server_help():
        args.append("--no-webui")
    log = Path(tempfile.mkstemp(prefix="llama-server.", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-2000:]
            server.stop()
            raise RuntimeError(f"llama-server exited ({process.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as reply:
                if reply.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or 503 while the model loads
        time.sleep(0.1)
    server.stop()
    raise TimeoutError(f"llama-server not healthy after {timeout:.0f} s")


async def post_json(port: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST JSON to 127.0.0.1:port with asyncio streams (one connection per request)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    try:
        writer.write(head.encode() + payload)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    header, _, data = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in header.lower():
        data = _unchunk(data)
    if status != 200:
        raise RuntimeError(f"{path}: HTTP {status}: {data[:300]!r}")
    return json.loads(data)


def _unchunk(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


# llama.vim defaults (ggml-org/llama.vim autoload/llama.vim, s:default_config and llama#fim).
N_PREFIX, N_SUFFIX = 256, 64  # lines before / after the cursor
MAX_LINE_SUFFIX = 8  # no auto request with more characters right of the cursor
CACHE_KEYS = 250
SCAN_CHARS = 128  # s:fim_try_hint: a cached suggestion up to 128 characters back
RETRY_S = 0.1  # a request in flight: try again in 100 ms (no cancel)
T_MAX_PREDICT_MS = (250, 1000)  # the first request at a spot; the speculative one after a hint


class LlamaVimClient:
    """llama.vim's auto-FIM loop (llama#fim, s:fim_try_hint, s:fim_render) against /completion.

    Kept from llama.vim: a request per cursor move, at most one in flight (a newer keystroke
    retries every 100 ms until it is free; nothing is cancelled), `cache_prompt`, its samplers,
    `n_indent`, `t_max_predict_ms` 250 (1000 for the speculative request), the 250-entry
    client cache keyed by prefix+middle+suffix, a cached suggestion reused while the user types
    along it (up to 128 characters back), a speculative request for the text after a shown
    hint, and its filters of hints that repeat the next lines.
    Changed, since Gemma-3-270M has no FIM tokens (no /infill): the prompt is the 256 lines
    before the cursor plus the cursor line's prefix (the suffix only keys the cache); no
    ring-buffer chunks (they travel in /infill's input_extra); generation stops at the end of
    the line (`stop: ["\\n"]`): the first line of llama.vim's hint, which llama.vim itself
    shows later (it keeps generating for >= t_max_predict_ms to show several lines), so this
    reference is if anything faster than the plugin. The cache evicts its oldest entry (llama.vim
    a random one); a fixed seed keeps runs comparable.
    """

    def __init__(
        self, port: int, on_show: Callable[[float, bool], None], n_predict: int = 64
    ) -> None:
        self.port = port
        self.on_show = on_show  # (when, from the client cache without a request)
        self.n_predict = n_predict
        self.lines: list[str] = []
        self.y = self.x = 0
        self.cache: dict[str, str] = {}
        self.job: asyncio.Task | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.hint: list[str] | None = None
        self.can_accept = False
        self.indent_last = -1
        self.responses: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def busy(self) -> bool:
        return self.job is not None or self.timer is not None

    def cursor_moved(self, lines: list[str], y: int, x: int) -> None:
        """CursorMovedI: s:on_move (hide, show from the cache), then llama#fim."""
        self.lines, self.y, self.x = lines, y, x
        self.hint = None
        self._try_hint(from_cache=True)
        self._fim(prev=None)

    def _context(self, prev: list[str] | None) -> tuple[str, str, str, int, str]:
        """s:fim_ctx_local: (prefix, middle, suffix, indent, cursor line suffix)."""
        lines, y = self.lines, self.y
        if prev is None:
            line = lines[y]
            middle, line_suffix = line[: self.x], line[self.x :]
            before = lines[max(0, y - N_PREFIX) : y]
            if line.strip(" \t") == "":
                indent, middle, line_suffix = 0, "", ""
            else:
                indent = len(line) - len(line.lstrip(" \t"))
        else:  # as if the hint `prev` were accepted
            middle = lines[y] + prev[0] if len(prev) == 1 else prev[-1]
            line_suffix = ""
            before = lines[max(0, y - N_PREFIX + len(prev) - 1) : y]
            if len(prev) > 1:
                before = [*before, lines[y] + prev[0], *prev[1:-1]]
            indent = self.indent_last
        after = lines[y + 1 : y + 1 + N_SUFFIX]
        suffix = line_suffix + "\n" + "\n".join(after) + "\n"
        return "\n".join(before) + "\n", middle, suffix, indent, line_suffix

    def _fim(self, prev: list[str] | None) -> None:
        """llama#fim: send a request for the cursor, unless one is in flight or cached."""
        if self.job is not None:
            if self.timer is not None:
                self.timer.cancel()
            self.timer = asyncio.get_running_loop().call_later(RETRY_S, self._retry, prev)
            return
        prefix, middle, suffix, indent, line_suffix = self._context(prev)
        if len(line_suffix) > MAX_LINE_SUFFIX:
            return
        keys = [prefix + middle + "\u00ce" + suffix]
        trimmed = prefix
        for _ in range(3):  # hashes of the context scrolled by 1-3 lines
            trimmed = trimmed.split("\n", 1)[1] if "\n" in trimmed else ""
            if not trimmed:
                break
            keys.append(trimmed + middle + "\u00ce" + suffix)
        if any(key in self.cache for key in keys):
            return
        self.indent_last = indent
        body = {
            "prompt": prefix + middle,
            "n_predict": self.n_predict,
            "stop": ["\n"],
            "n_indent": indent,
            "top_k": 40,
            "top_p": 0.90,
            "samplers": ["top_k", "top_p", "infill"],
            "seed": 0,
            "stream": False,
            "cache_prompt": True,
            "t_max_predict_ms": T_MAX_PREDICT_MS[prev is not None],
            "response_fields": [
                "content",
                "timings/prompt_n",
                "timings/prompt_ms",
                "timings/predicted_n",
                "timings/predicted_ms",
                "tokens_cached",
            ],
        }
        self.job = asyncio.ensure_future(self._request(body, keys))

    def _retry(self, prev: list[str] | None) -> None:
        self.timer = None
        self._fim(prev)

    async def _request(self, body: dict[str, Any], keys: list[str]) -> None:
        """The job and its on_response callback: cache the answer, show it if it fits."""
        try:
            response = await post_json(self.port, "/completion", body)
        except (OSError, RuntimeError, ValueError) as exc:
            self.errors.append(str(exc))
            self.job = None
            return
        try:
            self.responses.append(response)
            for key in keys:
                if key not in self.cache and len(self.cache) >= CACHE_KEYS:
                    del self.cache[next(iter(self.cache))]
                self.cache[key] = response.get("content", "")
            if self.hint is None or not self.can_accept:
                self._try_hint(from_cache=False)
        finally:
            self.job = None  # on_exit runs after on_response: a speculative fim above waits

    def _try_hint(self, from_cache: bool) -> None:
        """s:fim_try_hint: the cached suggestion for the cursor, or one typed along."""
        prefix, middle, suffix, _, _ = self._context(None)
        content = self.cache.get(prefix + middle + "\u00ce" + suffix)
        if content is None:
            typed = prefix + middle
            for i in range(min(SCAN_CHARS, len(typed) - 1)):
                cached = self.cache.get(typed[: -(1 + i)] + "\u00ce" + suffix)
                if not cached or cached[: i + 1] != typed[-(1 + i) :]:
                    continue
                rest = cached[i + 1 :]
                if rest and (content is None or len(rest) > len(content)):
                    content = rest
        if content is None:
            return
        self._render(content, from_cache)
        if self.hint is not None:
            self._fim(prev=self.hint)

    def _render(self, raw: str, from_cache: bool) -> None:
        """s:fim_render's filters; `on_show` when the hint can be accepted."""
        content = raw.split("\n")
        while content and content[-1] == "":
            content.pop()
        content = content or [""]
        lines, y = self.lines, self.y
        line = lines[y]
        if line.strip(" \t") == "":
            lead = min(len(content[0]) - len(content[0].lstrip(" \t")), len(line))
            line, content[0] = content[0][:lead], content[0][lead:]
        line_prefix, line_suffix = line[: self.x], line[self.x :]
        after = lines[y + 1 :]
        if len(content) > 1 and content[0] == "" and content[1:] == after[: len(content) - 1]:
            content = [""]
        if len(content) == 1 and content[0] == line_suffix:
            content = [""]
        below = y + 1
        while below < len(lines) - 1 and lines[below].strip(" \t") == "":
            below += 1
        if below < len(lines) and line_prefix + content[0] == lines[below]:
            next_line = lines[below + 1] if below + 1 < len(lines) else ""
            if (
                len(content) == 1
                or (len(content) == 2 and content[-1] == next_line[: len(content[-1])])
                or (len(content) > 2 and content[1:] == lines[below + 1 : below + len(content)])
            ):
                content = [""]
        content[-1] += line_suffix
        self.hint = content
        self.can_accept = "\n".join(content).strip() != ""
        if self.can_accept:
            self.on_show(time.perf_counter(), from_cache)


def main() -> None:
    """Smoke test: start llama-server on the default model, complete one prompt, stop."""
    print(f"tools: {bin_dir()}")
    with start_server() as server:
        began = time.perf_counter()
        reply = asyncio.run(
            post_json(server.port, "/completion", {"prompt": "def add(a, b):\n", "n_predict": 16})
        )
        elapsed = (time.perf_counter() - began) * 1000
        print(f"{server.url}: {reply.get('content')!r} in {elapsed:.0f} ms")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
