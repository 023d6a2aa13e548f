"""Neovim plugin, headless, against the real server and the real model.

Types in insert mode, waits for the ghost-text extmark, accepts it with the plugin's keymaps
and checks the buffer. Runs on NVIM 0.12-dev (native vim.lsp.inline_completion and the
extmark fallback) and NVIM 0.11.4 (extmark fallback); and once with `engineUrl` set, against a
real llama-server (tests/e2e/llama_server.py) serving the same model.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from editor_env import EDITORS, missing, need_module, nvim_binary

from tests.e2e import llama_server

pynvim = need_module("pynvim")

pytestmark = pytest.mark.e2e

PLUGIN = EDITORS / "nvim"
NATIVE_NS = "nvim.lsp.inline_completion"
EXTMARK_NS = "smallcode.ghost"
PROMPT = "def fibonacci(n):\n    "
WAIT_S = 60.0


class Editor:
    """A headless Neovim with the plugin set up."""

    def __init__(self, nvim: Any, ns_name: str) -> None:
        self.nvim = nvim
        self.ns_name = ns_name

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def wait(self, what: str, check: Any, timeout: float = WAIT_S) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.05)
        log = self.lua("return vim.lsp.get_log_path()")
        tail = Path(log).read_text(errors="replace")[-3000:] if Path(log).exists() else ""
        raise AssertionError(f"timed out waiting for {what}; lsp log tail:\n{tail}")

    def ghost(self) -> str:
        """The suggestion as drawn: inline virt_text plus virt_lines, hint chunks left out."""
        return self.lua(
            """
            local ns = vim.api.nvim_get_namespaces()[...]
            if not ns then return '' end
            local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
            local out = {}
            for _, m in ipairs(marks) do
              local d = m[4]
              local first = {}
              for _, chunk in ipairs(d.virt_text or {}) do
                local hl = chunk[2]
                if hl ~= 'ComplHintMore' and hl ~= 'SmallcodeGhostMore' then
                  first[#first + 1] = chunk[1]
                end
              end
              out[#out + 1] = table.concat(first)
              for _, vl in ipairs(d.virt_lines or {}) do
                local line = {}
                for _, chunk in ipairs(vl) do line[#line + 1] = chunk[1] end
                out[#out + 1] = table.concat(line)
              end
            end
            return #marks > 0 and table.concat(out, '\\n') or ''
            """,
            self.ns_name,
        )

    def screen(self) -> str:
        """What Neovim draws (its screen grid, via screenstring()), trailing blanks cut."""
        return self.lua(
            """
            vim.cmd('redraw')
            local rows = {}
            for r = 1, vim.o.lines do
              local cells = {}
              for c = 1, vim.o.columns do cells[c] = vim.fn.screenstring(r, c) end
              rows[r] = (table.concat(cells):gsub('%s+$', ''))
            end
            return table.concat(rows, '\\n')
            """
        )

    def text(self) -> str:
        return "\n".join(self.nvim.current.buffer[:])

    def status(self) -> dict[str, Any]:
        return self.lua(
            """
            local client = vim.lsp.get_clients({ bufnr = 0, name = 'smallcode' })[1]
            local resp = client and client:request_sync('smallcode/status', vim.empty_dict(), 5000)
            return resp and resp.result or vim.NIL
            """
        )


def start_editor(
    binary: str, server: str, backend: str, tmp_path: Path, settings: dict[str, Any] | None = None
) -> Editor:
    nvim = pynvim.attach(
        "child",
        argv=[binary, "--clean", "--embed", "--headless", "-n", "-i", "NONE"],
    )
    nvim.command(f"set runtimepath^={PLUGIN}")
    nvim.exec_lua("vim.lsp.log.set_level(vim.log.levels.DEBUG)")
    nvim.command("set noswapfile shortmess+=F")
    nvim.exec_lua(
        "local cmd, backend, settings = ...\n"
        "require('smallcode').setup({ cmd = { cmd, 'serve' }, backend = backend,"
        " server = settings })",
        server,
        backend,
        settings or {},
    )
    path = tmp_path / "fib.py"
    path.write_text(PROMPT)
    nvim.command(f"edit {path}")
    native = nvim.exec_lua("return require('smallcode').backend_name") == "native"
    ns = NATIVE_NS if native else EXTMARK_NS
    ed = Editor(nvim, ns)
    ed.wait(
        "the smallcode client to attach",
        lambda: ed.lua("return #vim.lsp.get_clients({ bufnr = 0, name = 'smallcode' })") > 0,
    )
    ed.wait("the model to load", lambda: (ed.status() or {}).get("state") == "ready")
    return ed


CASES = [
    pytest.param(("0.12", "auto", "native"), id="nvim0.12-native"),
    pytest.param(("0.12", "extmark", "extmark"), id="nvim0.12-extmark"),
    pytest.param(("0.11", "auto", "extmark"), id="nvim0.11-extmark"),
]


@pytest.fixture(params=CASES)
def editor(request: pytest.FixtureRequest, server_path: str, tmp_path: Path) -> Iterator[Editor]:
    version, backend, expect = request.param
    ed = start_editor(nvim_binary(version), server_path, backend, tmp_path)
    assert ed.lua("return require('smallcode').backend_name") == expect
    try:
        yield ed
    finally:
        ed.nvim.command("qa!", async_=True)
        with contextlib.suppress(OSError):
            ed.nvim.close()


def type_and_wait(ed: Editor, keys: str) -> str:
    """Goes to the end of the buffer, types `keys` in insert mode and waits for ghost text."""
    before = ed.text()
    ed.nvim.input("GA")
    ed.nvim.input(keys.replace("<", "<lt>"))
    ed.wait("the typing", lambda: ed.text() == before + keys)
    return ed.wait("ghost text", lambda: ed.ghost().strip() and ed.ghost())


def test_tab_accepts_the_ghost_text(editor: Editor, request: pytest.FixtureRequest) -> None:
    typed = "if n < 2:"
    ghost = type_and_wait(editor, typed)
    # The suggestion is on the screen, not only in an extmark.
    screen = editor.screen()
    drawn = [line.strip() for line in ghost.split("\n") if line.strip()]
    assert drawn[0] in screen, screen
    if os.environ.get("SMALLCODE_CAPTURE_DIR"):
        name = request.node.callspec.id
        Path(os.environ["SMALLCODE_CAPTURE_DIR"], f"{name}.txt").write_text(screen + "\n")
    before = editor.text()
    assert before == PROMPT + typed
    editor.nvim.input("<Tab>")
    after = editor.wait("the accept", lambda: editor.text() != before and editor.text())
    # The buffer gains exactly what was drawn, at the cursor.
    assert after == before + ghost
    assert editor.lua("return vim.api.nvim_get_mode().mode") == "i"
    row, col = editor.nvim.current.window.cursor
    lines = after.split("\n")
    assert (row, col) == (len(lines), len(lines[-1].encode()))
    # The item's command reached the server (workspace/executeCommand smallcode.accepted).
    editor.wait("the accept count", lambda: editor.status()["acceptance"]["accepted"] >= 1)

    # :checkhealth smallcode sees the server, the client and the loaded model.
    editor.nvim.input("<Esc>")
    editor.nvim.command("checkhealth smallcode")
    report = "\n".join(editor.nvim.current.buffer[:])
    assert "server found" in report, report
    assert "attached to 1 buffer(s)" in report, report
    assert "server state: ready" in report, report
    assert "engine: local" in report, report
    assert "ERROR" not in report, report
    # The statusline says where the model runs.
    assert editor.lua("return require('smallcode').statusline()").startswith(
        "smallcode: ready (local)"
    )


def test_a_resting_cursor_is_warmed_before_typing(editor: Editor) -> None:
    """Moving the cursor in normal mode sends smallcode/didMoveCursor: the server prefills that
    spot (its warm-up count grows), once per spot the cursor rests on."""
    for keys in ("G$", "gg0"):
        before = editor.status()["warmStarted"]
        editor.nvim.input(keys)
        editor.wait(f"a warm-up after {keys}", lambda b=before: editor.status()["warmStarted"] > b)


def test_accept_word_then_line(editor: Editor) -> None:
    typed = "if n < 2:"
    ghost = type_and_wait(editor, typed)
    before = editor.text()
    word = editor.lua("return require('smallcode.util').next_word(...)", ghost)
    editor.nvim.input("<M-w>")
    editor.wait("the word", lambda: editor.text() != before)
    assert editor.text() == before + word
    status = editor.wait(
        "the partial accept",
        lambda: (s := editor.status())["acceptance"]["partiallyAccepted"] >= 1 and s,
    )
    # acceptedLength counts from the item's range start, so at least the word itself.
    assert status["acceptance"]["acceptedChars"] >= len(word)

    # The rest of the suggestion (kept, or asked for again) and then one line of it.
    rest = editor.wait(
        "ghost text after the word", lambda: editor.ghost().strip() and editor.ghost()
    )
    middle = editor.text()
    line = editor.lua("return require('smallcode.util').next_line(...)", rest)
    editor.nvim.input("<M-l>")
    editor.wait("the line", lambda: editor.text() != middle)
    assert editor.text() == middle + line


def test_escape_clears_and_toggle_stops_suggestions(editor: Editor) -> None:
    type_and_wait(editor, "if n < 2:")
    editor.nvim.input("<Esc>")
    editor.wait("the ghost text to go", lambda: editor.ghost() == "" or None)
    assert editor.text() == PROMPT + "if n < 2:"

    # :Smallcode disable tells the server (enable=false) and stops asking.
    editor.nvim.command("Smallcode disable")
    editor.wait("state disabled", lambda: editor.status()["state"] == "disabled")
    editor.nvim.input("GA")  # InsertEnter asks for a suggestion when enabled
    time.sleep(2.0)
    assert editor.ghost() == ""
    editor.nvim.input("<Esc>")

    # :Smallcode enable brings suggestions back.
    editor.nvim.command("Smallcode enable")
    editor.wait("state ready", lambda: editor.status()["state"] == "ready")
    editor.nvim.input("GA")
    editor.wait("ghost text again", lambda: editor.ghost().strip())
    editor.nvim.input("<Esc>")

    # :Smallcode restart: a new client (new server process) attaches and loads the model.
    old = editor.lua("return vim.lsp.get_clients({ bufnr = 0, name = 'smallcode' })[1].id")
    editor.nvim.command("Smallcode restart")
    editor.wait(
        "a new client",
        lambda: (
            editor.lua(
                "local c = vim.lsp.get_clients({ bufnr = 0, name = 'smallcode' })"
                " return #c == 1 and c[1].id"
            )
            not in (False, old, None)
        ),
    )
    editor.wait("state ready", lambda: (editor.status() or {}).get("state") == "ready")


@pytest.fixture
def engine(default_model: str) -> Iterator[llama_server.LlamaServer]:
    """A real llama-server with the default model, on a free loopback port."""
    if not llama_server.binary().is_file():
        missing(f"llama-server not built: run {llama_server.BUILD_SCRIPT}")
    server = llama_server.LlamaServer(default_model, slots=1, ctx=2048)
    try:
        yield server
    finally:
        server.stop()


def test_remote_engine(engine: llama_server.LlamaServer, server_path: str, tmp_path: Path) -> None:
    """`engineUrl` set: the suggestion comes from llama-server; the status says remote."""
    ed = start_editor(nvim_binary("0.12"), server_path, "auto", tmp_path, {"engineUrl": engine.url})
    try:
        status = ed.status()
        assert (status["engine"], status["engineUrl"]) == ("remote", engine.url)
        ghost = type_and_wait(ed, "if n < 2:")
        before = ed.text()
        ed.nvim.input("<Tab>")
        assert ed.wait("the accept", lambda: ed.text() != before and ed.text()) == before + ghost
        ed.wait(
            "a statusChanged payload",
            lambda: ed.lua("return require('smallcode').statusline()") != "",
        )
        line = ed.lua("return require('smallcode').statusline()")
        assert line.startswith("smallcode: ") and "(remote)" in line, line
        ed.nvim.input("<Esc>")
        ed.nvim.command("checkhealth smallcode")
        report = "\n".join(ed.nvim.current.buffer[:])
        assert f"engine: remote {engine.url}" in report, report
    finally:
        ed.nvim.command("qa!", async_=True)
        with contextlib.suppress(OSError):
            ed.nvim.close()
