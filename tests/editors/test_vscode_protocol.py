"""The VS Code extension's requests, replayed against the real server and model.

Runs in CI where a real VS Code cannot (see test_vscode_e2e.py for the code-server test).
The settings payload, the launch command and the status parsing come from the extension's own
compiled modules (editors/vscode/out), run with node, so a change there is tested here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from editor_env import EDITORS, missing
from lsp_stdio import OMIT, LspProcess

pytestmark = pytest.mark.e2e

OUT = EDITORS / "vscode" / "out" / "src" / "common"
USER_SETTINGS = {"maxTokens": 12, "disabledLanguages": ["markdown"], "temperature": 0}
PY_URI = "file:///tmp/vscode-replay/fib.py"
MD_URI = "file:///tmp/vscode-replay/notes.md"
DOC = "def fibonacci(n):\n    if n < 2:"

# What vscode-languageclient 11 declares for the features used here.
CAPABILITIES = {
    "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": True}},
    "textDocument": {
        "synchronization": {"dynamicRegistration": True, "didSave": True},
        "inlineCompletion": {"dynamicRegistration": True},
    },
    "window": {"workDoneProgress": True, "showMessage": {}},
    "general": {"positionEncodings": ["utf-16"]},
}


def node(script: str, payload: Any) -> Any:
    """Runs `script` with the extension's modules loaded; `input` is `payload`."""
    exe = shutil.which("node")
    if exe is None:
        missing("node is not installed")
    if not (OUT / "settings.js").exists():
        missing("editors/vscode is not built: cd editors/vscode && npm ci && npm run compile")
    prelude = (
        f"const settings = require({json.dumps(str(OUT / 'settings.js'))});"
        f"const launch = require({json.dumps(str(OUT / 'launch.js'))});"
        f"const status = require({json.dumps(str(OUT / 'status.js'))});"
        "const fs = require('fs');"
        "const input = JSON.parse(fs.readFileSync(0, 'utf8'));"
    )
    done = subprocess.run(
        [str(exe), "-e", prelude + f"process.stdout.write(JSON.stringify(({script})));"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def items_of(result: Any) -> list[dict[str, Any]]:
    if result is None:
        return []
    return result["items"] if isinstance(result, dict) else result


def test_extension_requests_against_the_real_server(server_path: str, tmp_path: Path) -> None:
    init_options = node(
        "settings.serverSettings((k, f) => (k in input ? input[k] : f))", USER_SETTINGS
    )
    # smallcode.pythonPath set to this venv's python: the extension starts its smallcode-lsp.
    launch = node(
        "launch.resolveLaunch({serverPath: '', pythonPath: input}, (f) => fs.existsSync(f))",
        sys.executable,
    )
    assert launch == {"command": server_path, "args": ["serve"]}

    server = LspProcess([launch["command"], *launch["args"]])
    try:
        init = server.request(
            "initialize",
            {
                "processId": None,
                "clientInfo": {"name": "Visual Studio Code", "version": "1.139.1"},
                "rootUri": None,
                "capabilities": CAPABILITIES,
                "initializationOptions": init_options,
            },
        )
        caps = init["capabilities"]
        assert caps.get("inlineCompletionProvider") is not None
        # The extension relies on vscode-languageclient forwarding the item's command.
        assert "smallcode.accepted" in caps["executeCommandProvider"]["commands"]
        server.notify("initialized", {})
        # What SmallcodeClient.pushSettings sends on a settings change.
        server.notify("workspace/didChangeConfiguration", {"settings": {"smallcode": init_options}})
        for uri, lang, text in ((PY_URI, "python", DOC), (MD_URI, "markdown", "# Notes\n\nThe ")):
            server.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": lang, "version": 1, "text": text}},
            )
        server.wait_ready()
        position = {"line": 1, "character": len(DOC.split("\n")[-1])}

        # Typing: Automatic. Alt+\ (smallcode.trigger): Invoked.
        auto = items_of(
            server.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": PY_URI},
                    "position": position,
                    "context": {"triggerKind": 2},
                },
            )
        )
        assert len(auto) == 1 and auto[0]["insertText"].strip()
        invoked = items_of(
            server.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": PY_URI},
                    "position": position,
                    "context": {"triggerKind": 1},
                },
            )
        )
        assert invoked and all(isinstance(i["insertText"], str) for i in invoked)

        # The middleware's didShowCompletion, VS Code running the item's command on Tab,
        # and a partial accept (Ctrl+Right) reported the Copilot way.
        item = auto[0]
        server.notify("textDocument/didShowCompletion", {"item": item})
        server.request("workspace/executeCommand", item["command"])
        server.notify(
            "textDocument/didPartiallyAcceptCompletion", {"item": item, "acceptedLength": 3}
        )
        status = server.wait_for(
            "the counters",
            lambda: (
                (s := server.request("smallcode/status"))["acceptance"]["partiallyAccepted"] >= 1
                and s
            ),
        )
        assert status["acceptance"]["shown"] >= 1
        assert status["acceptance"]["accepted"] >= 1
        assert status["acceptance"]["acceptedChars"] >= 3
        assert status["last"]["generatedTokens"] <= USER_SETTINGS["maxTokens"]

        # smallcode.disabledLanguages: markdown gets nothing.
        md = server.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": MD_URI},
                "position": {"line": 2, "character": 4},
                "context": {"triggerKind": 1},
            },
        )
        assert not items_of(md)

        # smallcode.toggle: enable=false is pushed; the server stops suggesting and says so.
        off = {**init_options, "enable": False}
        server.notify("workspace/didChangeConfiguration", {"settings": {"smallcode": off}})
        disabled = server.wait_for(
            "state disabled",
            lambda: (s := server.request("smallcode/status"))["state"] == "disabled" and s,
        )
        none = server.request(
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": PY_URI}, "position": position, "context": {"triggerKind": 1}},
        )
        assert not items_of(none)

        # Every status payload the server sent renders in the extension's status bar item.
        changed = [
            n["params"] for n in server.notifications if n["method"] == "smallcode/statusChanged"
        ]
        assert changed, "no smallcode/statusChanged notification"
        views = node(
            "input.map((p) => { const s = status.parseStatus(p);"
            " return s && status.renderStatus(s); })",
            [*changed, status, disabled],
        )
        assert all(views), list(zip(views, [*changed, status, disabled], strict=True))
        assert "tokens/s" in views[-2]["tooltip"]
        assert views[-1]["severity"] == "warning"
        errors = [
            n
            for n in server.notifications
            if n["method"] == "window/showMessage" and n["params"]["type"] == 1
        ]
        assert not errors, errors
    finally:
        server.close()


def test_status_request_without_params(server_path: str) -> None:
    server = LspProcess([server_path, "serve"])
    try:
        server.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        server.notify("initialized", {})
        assert server.request("smallcode/status", OMIT)["state"]
    finally:
        server.close()
