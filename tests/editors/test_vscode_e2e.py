"""The VS Code extension in a real VS Code (code-server 4.139.1, VS Code 1.139.1) in headless
Chromium, with the real server and model: open a Python file, type, see the ghost text, Tab.

Opt-in (SMALLCODE_VSCODE_E2E=1): it needs Node 24, code-server and Chromium; see
vscode_e2e/setup.sh, which prints the environment variables read here. CI runs
test_vscode_protocol.py instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from editor_env import EDITORS, missing

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("SMALLCODE_VSCODE_E2E") != "1", reason="set SMALLCODE_VSCODE_E2E=1"
    ),
]

HERE = Path(__file__).parent / "vscode_e2e"
PROMPT = "def fibonacci(n):\n    "
TYPED = "if n < 2:"

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


@pytest.fixture
def code_server(server_path: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    node24 = need("SMALLCODE_NODE24")
    binary = need("SMALLCODE_CODE_SERVER")
    env = {**os.environ, "PATH": f"{Path(node24).parent}{os.pathsep}{os.environ['PATH']}"}

    vsix = tmp_path / "smallcode.vsix"
    subprocess.run(
        [shutil.which("node") or node24, "scripts/package.js", str(vsix)],
        cwd=EDITORS / "vscode",
        check=True,
        capture_output=True,
    )
    ext, data, ws = tmp_path / "ext", tmp_path / "data", tmp_path / "ws"
    (data / "User").mkdir(parents=True)
    ws.mkdir()
    settings = {**USER_SETTINGS, "smallcode.serverPath": server_path}
    (data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
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
        yield f"{url}?folder={ws}", ws
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
        ext_log = next(data.glob("logs/*/exthost*/smallcode.smallcode/SmallCode.log"), None)
        if ext_log is not None:
            print("--- SmallCode output channel ---\n" + ext_log.read_text()[-4000:])


def test_ghost_text_and_tab_in_real_vscode(code_server: tuple[str, Path], tmp_path: Path) -> None:
    url, ws = code_server
    source = ws / "fib.py"
    source.write_text(PROMPT)
    shots = Path(os.environ.get("SMALLCODE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PLAYWRIGHT_CORE": need(
            "PLAYWRIGHT_CORE",
            str(Path(need("SMALLCODE_CODE_SERVER")).parents[1] / "playwright-core"),
        ),
        "CHROMIUM": need("CHROMIUM", "/usr/bin/chromium"),
    }
    done = subprocess.run(
        [need("SMALLCODE_NODE24"), str(HERE / "drive.js"), url, str(source), TYPED, str(shots)],
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
    assert "tokens/s" in seen["tooltip"]
    assert "Accepted: 1/" in seen["tooltip"]

    # Clicking the item opens the menu; "Disable completions" reaches the server (state disabled).
    for entry in ("Disable completions", "Restart server", "Show log", "Trigger suggestion"):
        assert entry in seen["menu"], seen["menu"]
    assert "SmallCode: disabled" in seen["afterToggle"]
