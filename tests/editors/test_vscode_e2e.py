"""The VS Code extension in a real VS Code (code-server 4.139.1, VS Code 1.139.1) in headless
Chromium, with the real server and model: open a Python file, type, see the ghost text, Tab;
a next edit (a rename on one line drawn on the next as the old word struck through and the new
one after it, applied with Tab); the status bar item, its menu, and the output channel. Twice:
the model in the server's process, and on a real llama-server (tests/e2e/llama_server.py) named
by `smallcode.engineUrl` in the workspace settings.

It needs Node 24, code-server and Chromium: vscode_e2e/setup.sh installs them and prints the
environment variables read here. It runs with SMALLCODE_VSCODE_E2E=1, and is required (fails
when something is missing) with SMALLCODE_REQUIRE_EDITORS=1, as scripts/test.sh sets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from editor_env import EDITORS, REQUIRE, missing

from tests.e2e import llama_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("SMALLCODE_VSCODE_E2E") != "1" and not REQUIRE,
        reason="set SMALLCODE_VSCODE_E2E=1 (see vscode_e2e/setup.sh)",
    ),
]

HERE = Path(__file__).parent / "vscode_e2e"
PROMPT = "def fibonacci(n):\n    "
TYPED = "if n < 2:"
# Renaming `value` on line 1 makes the server's repeated-edit propagation (no model) propose
# the same rename on line 2.
NEXT_EDIT_SOURCE = "value = compute(1)\nprint(value)\ntotal = value + 1\n"

USER_SETTINGS = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "chat.disableAIFeatures": True,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": False,
    "editor.inlineSuggest.enabled": True,
    # Keep the suggest widget away so Tab goes to the inline suggestion.
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
}


def need(env: str, default: str | None = None) -> str:
    value = os.environ.get(env) or default
    if not value or not Path(value).exists():
        missing(f"{env} is not set or does not exist (see tests/editors/vscode_e2e/setup.sh)")
    assert value is not None
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VSCode:
    """A running code-server: the URL that opens the workspace, the workspace, the data dir."""

    def __init__(self, url: str, ws: Path, data: Path, engine_url: str | None) -> None:
        self.url, self.ws, self.data, self.engine_url = url, ws, data, engine_url

    def output_channel(self, wanted: str, timeout: float = 15.0) -> str:
        """The SmallCode output channel's log file, once `wanted` (a regex) is in it."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            found = sorted(self.data.glob("logs/**/SmallCode.log"))
            text = found[-1].read_text(errors="replace") if found else ""
            if re.search(wanted, text, re.M):
                break
            time.sleep(0.5)
        return text


@pytest.fixture(params=["local", "remote"])
def engine_url(request: pytest.FixtureRequest, default_model: str) -> Iterator[str | None]:
    """None (the model in the server's process), or a real llama-server's URL."""
    if request.param == "local":
        yield None
        return
    if not llama_server.binary().is_file():
        missing(f"llama-server not built: run {llama_server.BUILD_SCRIPT}")
    engine = llama_server.LlamaServer(default_model, slots=1, ctx=2048)
    try:
        yield engine.url
    finally:
        engine.stop()


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension packaged once for both engines."""
    node24 = need("SMALLCODE_NODE24")
    path = tmp_path_factory.mktemp("vsix") / "smallcode.vsix"
    subprocess.run(
        [shutil.which("node") or node24, "scripts/package.js", str(path)],
        cwd=EDITORS / "vscode",
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture
def code_server(
    server_path: str, engine_url: str | None, vsix: Path, tmp_path: Path
) -> Iterator[VSCode]:
    node24 = need("SMALLCODE_NODE24")
    binary = need("SMALLCODE_CODE_SERVER")
    env = {**os.environ, "PATH": f"{Path(node24).parent}{os.pathsep}{os.environ['PATH']}"}
    ext, data, ws = tmp_path / "ext", tmp_path / "data", tmp_path / "ws"
    (data / "User").mkdir(parents=True)
    ws.mkdir()
    settings = {**USER_SETTINGS, "smallcode.serverPath": server_path}
    (data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
    if engine_url:
        (ws / ".vscode").mkdir()
        workspace = {"smallcode.engineUrl": engine_url}
        (ws / ".vscode" / "settings.json").write_text(json.dumps(workspace, indent=2))
    dirs = ["--extensions-dir", str(ext), "--user-data-dir", str(data)]
    subprocess.run(
        [binary, *dirs, "--install-extension", str(vsix)], env=env, check=True, capture_output=True
    )
    port = free_port()
    log = (tmp_path / "code-server.log").open("wb")
    flags = ["--auth", "none", "--bind-addr", f"127.0.0.1:{port}", "--disable-telemetry"]
    flags += ["--disable-update-check", "--disable-workspace-trust"]
    proc = subprocess.Popen(
        [binary, *flags, *dirs, str(ws)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError("code-server did not start") from None
            time.sleep(0.5)
    try:
        yield VSCode(f"{url}?folder={ws}", ws, data, engine_url)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
        ext_log = next(data.glob("logs/**/SmallCode.log"), None)
        if ext_log is not None:
            print("--- SmallCode output channel ---\n" + ext_log.read_text()[-4000:])


def test_ghost_text_and_tab_in_real_vscode(code_server: VSCode, tmp_path: Path) -> None:
    vscode = code_server
    source = vscode.ws / "fib.py"
    source.write_text(PROMPT)
    renamed = vscode.ws / "rename.py"
    renamed.write_text(NEXT_EDIT_SOURCE)
    shots = Path(os.environ.get("SMALLCODE_SCREENSHOT_DIR") or tmp_path)
    if vscode.engine_url:
        shots = shots / "remote"  # the docs' screenshots are the local engine's
    shots.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PLAYWRIGHT_CORE": need(
            "PLAYWRIGHT_CORE",
            str(Path(need("SMALLCODE_CODE_SERVER")).parents[1] / "playwright-core"),
        ),
        "CHROMIUM": need("CHROMIUM", "/usr/bin/chromium"),
    }
    drive = [need("SMALLCODE_NODE24"), str(HERE / "drive.js"), vscode.url, str(source), TYPED]
    done = subprocess.run(
        [*drive, str(shots), str(renamed)],
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    # Tab inserted exactly the lines that were drawn as ghost text, after what was typed.
    saved = source.read_text()
    assert saved.startswith(PROMPT + TYPED)
    inserted = saved[len(PROMPT + TYPED) :]
    assert inserted.strip(), "Tab inserted nothing"
    drawn = [line.rstrip() for line in seen["ghost"] if line.strip()]
    assert drawn, f"no ghost text seen: {seen}"
    assert [line.rstrip() for line in inserted.split("\n") if line.strip()] == drawn

    # The status bar item got the server's status: model, latency, and the accept.
    assert "SmallCode" in seen["status"]
    assert "gemma" in seen["tooltip"].lower()
    # ... and says where the model runs: the bar names a remote engine, the tooltip both.
    if vscode.engine_url:
        assert "SmallCode (remote)" in seen["status"], seen["status"]
        assert f"Engine: remote, {vscode.engine_url}" in seen["tooltip"], seen["tooltip"]
    else:
        assert "remote" not in seen["status"], seen["status"]
        assert "Engine: local (in-process)" in seen["tooltip"], seen["tooltip"]
    assert "tokens/s" in seen["tooltip"]
    assert "Accepted: 1/" in seen["tooltip"]

    # The next edit: drawn on line 2 as `value` struck through with `result` after it, and Tab
    # applied it there (the saved file); the server counted the accept (the tooltip's line).
    nxt = seen["nextEdit"]
    assert nxt["struck"] == ["value"], nxt
    assert "print(valueresult)" in nxt["lines"], nxt  # `result` drawn after the struck `value`
    assert renamed.read_text().split("\n")[:2] == ["result = compute(1)", "print(result)"], nxt
    assert re.search(r"^Next edits: [1-9]\d*/\d+ accepted", seen["tooltip"], re.M), seen["tooltip"]

    # Clicking the item opens the menu; "Disable completions" reaches the server (state disabled).
    for entry in ("Disable completions", "Restart server", "Show log", "Trigger suggestion"):
        assert entry in seen["menu"], seen["menu"]
    assert "SmallCode: disabled" in seen["afterToggle"]

    # The output channel shows the server's log lines at their own level: INFO as [info],
    # not every stderr line as [error] (vscode-languageclient's default).
    loaded = (
        r"smallcode_lsp\.engine\.remote\.engine: engine at http"
        if vscode.engine_url
        else r"smallcode_lsp\.engine\.local\.model: warm-up decode"
    )
    channel = vscode.output_channel(r"\[info\] smallcode_lsp\.completion: completion")
    assert re.search(r"\[info\] smallcode_lsp\.completion: completion \(", channel), channel
    assert re.search(r"\[info\] " + loaded, channel), channel
    # The cursor rested after Ctrl+End: smallcode/didMoveCursor reached the server's warm-up.
    # Its start, not its end: the driver's next keys may preempt the prefill before it is done
    # (on a loaded machine they did, with either engine).
    warming = r"\[info\] smallcode_lsp\.warmer: warming the resting spot"
    assert re.search(warming, channel), channel
    assert "[error]" not in channel, channel
