"""Neovim next-edit suggestions (textDocument/copilotInlineEdit), headless.

The preview math in a bare Neovim; then the plugin against the real server and the real model
on NVIM 0.12-dev and 0.11.4: a rename on line 1 is offered on line 2 (the server's
repeated-edit propagation), drawn as struck-through old text plus inline new text, accepted
with <Tab>, followed by the offer for line 3, which <Esc> turns down.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from editor_env import EDITORS, nvim_binary
from test_nvim_plugin import Editor, start_editor

VERSIONS = ["0.12", "0.11"]
NS = "smallcode_nextedit"
SOURCE = "value = compute(1)\nprint(value)\ntotal = value + 1\n"

PREVIEW_SCRIPT = """
vim.opt.rtp:prepend(arg[1])
local ne = require('smallcode.nextedit')
local function edit(sr, sc, er, ec, text)
  return { start_row = sr, start_col = sc, end_row = er, end_col = ec, text = text }
end
local range = { start = { line = 0, character = 3 }, ['end'] = { line = 1, character = 3 } }
io.stdout:write(vim.json.encode({
  replace = ne.preview(edit(1, 6, 1, 11, 'result'), { 'print(value)' }),
  rewrite = ne.preview(edit(1, 6, 1, 11, 'a,\\n  b'), { 'print(value)' }),
  above = ne.preview(edit(2, 0, 2, 0, 'x = 1\\ny = 2\\n'), { 'z' }),
  below = ne.preview(edit(0, 3, 0, 3, '\\nx = 1'), { 'abc' }),
  delete = ne.preview(edit(0, 0, 2, 0, ''), { 'a', 'b', '' }),
  noop = ne.preview(edit(0, 0, 0, 0, ''), { 'a' }),
  bytes = { ne.byte_range(range, 'é😀x', 'abcdef', 'utf-16') },
  ends = { { ne.end_position(edit(1, 6, 1, 11, 'result')) },
    { ne.end_position(edit(1, 6, 1, 11, 'a,\\n  b')) } },
  hints = { ne.hint(edit(41, 0, 41, 0, 'x'), 0, 20) or vim.NIL,
    ne.hint(edit(10, 0, 10, 0, 'x'), 0, 20) or vim.NIL },
  insertion = { ne.is_insertion_at(edit(3, 4, 3, 4, 'x'), 3, 4),
    ne.is_insertion_at(edit(3, 4, 3, 5, 'x'), 3, 4) },
}))
"""


def mark(row: int, col: int, **opts: Any) -> dict[str, Any]:
    return {"row": row, "col": col, "opts": opts}


def struck(row: int, col: int, end_row: int, end_col: int) -> dict[str, Any]:
    return mark(row, col, end_row=end_row, end_col=end_col, hl_group="SmallcodeNextEditDelete")


def added(*lines: str) -> list[list[list[str]]]:
    return [[[line, "SmallcodeNextEditInsert"]] for line in lines]


@pytest.mark.parametrize("version", VERSIONS)
def test_preview_marks(version: str, tmp_path: Path) -> None:
    script = tmp_path / "preview.lua"
    script.write_text(PREVIEW_SCRIPT)
    argv = [nvim_binary(version), "--clean", "--headless", "-l", str(script), str(EDITORS / "nvim")]
    got = json.loads(
        subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
    )
    inline = {"virt_text": [["result", "SmallcodeNextEditInsert"]], "virt_text_pos": "inline"}
    # One line: the old text struck, the new one right after it.
    assert got["replace"] == [struck(1, 6, 1, 11), mark(1, 11, **inline)]
    # Several lines: the edited lines as they will read, below the old one.
    assert got["rewrite"] == [
        struck(1, 6, 1, 11),
        mark(1, 0, virt_lines=added("print(a,", "  b)"), virt_lines_above=False),
    ]
    # Whole lines inserted: just those lines, where they go.
    assert got["above"] == [mark(2, 0, virt_lines=added("x = 1", "y = 2"), virt_lines_above=True)]
    assert got["below"] == [mark(0, 0, virt_lines=added("x = 1"), virt_lines_above=False)]
    assert got["delete"] == [struck(0, 0, 2, 0)]
    assert got["noop"] == []
    # UTF-16 columns: 'é' is 1 unit (2 bytes), the emoji 2 units (4 bytes).
    assert got["bytes"] == [0, 6, 1, 3]
    assert got["ends"] == [[1, 12], [2, 3]]
    assert got["hints"] == ["⇥ next edit: line 42", None]
    assert got["insertion"] == [True, False]


class NextEditor:
    """A headless Neovim with the plugin, editing SOURCE in rename.py."""

    def __init__(self, ed: Editor) -> None:
        self.ed = ed
        self.nvim = ed.nvim

    def marks(self) -> list[dict[str, Any]]:
        """The next-edit extmarks: row, col and the details that say what they draw."""
        return self.ed.lua(
            """
            local out = {}
            for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ..., 0, -1, { details = true })) do
              local d = m[4]
              out[#out + 1] = { row = m[2], col = m[3], end_row = d.end_row, end_col = d.end_col,
                hl_group = d.hl_group, virt_text = d.virt_text, virt_text_pos = d.virt_text_pos }
            end
            return out
            """,
            self.ed.lua(f"return vim.api.nvim_create_namespace('{NS}')"),
        )

    def offer(self, row: int, col: int) -> list[dict[str, Any]]:
        """Waits for the preview of `value` -> `result` at (row, col)."""

        def drawn() -> list[dict[str, Any]] | None:
            marks = self.marks()
            want = [
                {
                    "row": row,
                    "col": col,
                    "end_row": row,
                    "end_col": col + 5,
                    "hl_group": "SmallcodeNextEditDelete",
                },
                {
                    "row": row,
                    "col": col + 5,
                    "virt_text": [["result", "SmallcodeNextEditInsert"]],
                    "virt_text_pos": "inline",
                },
            ]
            return marks if marks == want else None

        return self.ed.wait(f"the next edit at line {row + 1}", drawn)

    def open(self, path: Path, text: str) -> None:
        """Edits a new file holding `text`, once the client has attached to it."""
        path.write_text(text)
        self.nvim.command(f"edit {path}")
        self.ed.wait(
            f"the client to attach to {path.name}",
            lambda: (
                self.ed.lua("return #vim.lsp.get_clients({ bufnr = 0, name = 'smallcode' })") > 0
            ),
        )

    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def counts(self) -> dict[str, int]:
        return self.ed.status().get("nextEdit") or {}


@pytest.fixture(params=VERSIONS)
def editor(
    request: pytest.FixtureRequest, server_path: str, tmp_path: Path
) -> Iterator[NextEditor]:
    ed = start_editor(nvim_binary(request.param), server_path, "auto", tmp_path)
    try:
        ne = NextEditor(ed)
        ne.open(tmp_path / "rename.py", SOURCE)
        yield ne
    finally:
        ed.nvim.command("qa!", async_=True)
        with contextlib.suppress(OSError):
            ed.nvim.close()


def rename_first_value(ne: NextEditor, keys: str = "cwresult<Esc>") -> None:
    ne.nvim.input("gg0" + keys)
    ne.ed.wait("the rename", lambda: ne.lines()[0] == "result = compute(1)")


@pytest.mark.e2e
def test_rename_is_offered_accepted_and_followed(editor: NextEditor) -> None:
    rename_first_value(editor)
    editor.offer(1, 6)
    assert editor.ed.lua("return require('smallcode').next_edit_visible()") is True
    # Drawn on the screen: the old name, then the new one as inline virtual text.
    assert "print(valueresult)" in editor.ed.screen()
    assert editor.ed.lua(
        "return vim.api.nvim_get_hl(0, { name = 'SmallcodeNextEditDelete' }).strikethrough"
    )
    editor.ed.wait("didShowInlineEdit at the server", lambda: editor.counts().get("shown", 0) >= 1)

    editor.nvim.input("<Tab>")
    editor.ed.wait("the accept", lambda: editor.lines()[1] == "print(result)")
    assert editor.lines() == ["result = compute(1)", "print(result)", "total = value + 1"]
    # Normal mode: the cursor on the last character of the new text; the old spot in the jumplist.
    assert editor.ed.lua("return vim.api.nvim_get_mode().mode") == "n"
    assert tuple(editor.nvim.current.window.cursor) == (2, 11)
    assert editor.ed.lua("return vim.fn.getpos(\"''\")[2]") == 1
    editor.ed.wait(
        "the accept command at the server", lambda: editor.counts().get("accepted", 0) >= 1
    )

    # The next place follows, and <Esc> turns it down.
    editor.offer(2, 8)
    editor.nvim.input("<Esc>")
    editor.ed.wait("the preview to go", lambda: editor.marks() == [] or None)
    assert editor.lines() == ["result = compute(1)", "print(result)", "total = value + 1"]
    assert editor.ed.lua("return require('smallcode').next_edit_visible()") is False
    editor.ed.wait("the reject at the server", lambda: editor.counts().get("rejected", 0) >= 1)


@pytest.mark.e2e
def test_tab_in_insert_mode_accepts_the_next_edit(editor: NextEditor) -> None:
    """Still typing the new name: the offer shows in insert mode, and once no ghost text is
    shown (<C-]> dismisses one), <Tab> applies it and leaves the cursor after the new text."""
    rename_first_value(editor, "cwresult")
    editor.offer(1, 6)
    editor.nvim.input("<C-]>")
    ghost = "return require('smallcode').visible()"
    editor.ed.wait("no ghost text", lambda: not editor.ed.lua(ghost))
    editor.nvim.input("<Tab>")
    editor.ed.wait("the accept", lambda: editor.lines()[1] == "print(result)")
    assert editor.ed.lua("return vim.api.nvim_get_mode().mode") == "i"
    assert tuple(editor.nvim.current.window.cursor) == (2, 12)
    assert editor.lines()[0] == "result = compute(1)"


@pytest.mark.e2e
def test_off_screen_edit_gets_a_jump_hint(editor: NextEditor, tmp_path: Path) -> None:
    """The next place is 81 lines down, below the window: a hint at the cursor's line says
    where, and <Tab> applies it there."""
    filler = "".join(f"step_{i} = {i}\n" for i in range(80))
    editor.open(tmp_path / "far.py", f"value = compute(1)\n{filler}print(value)\n")
    rename_first_value(editor)

    def hint() -> str | None:
        for m in editor.marks():
            for text, hl in m.get("virt_text") or []:
                if hl == "SmallcodeNextEditHint" and m["row"] == 0:
                    return text
        return None

    assert editor.ed.wait("the jump hint", hint) == "⇥ next edit: line 82"
    assert "result = compute(1) ⇥ next edit: line 82" in editor.ed.screen()
    editor.nvim.input("<Tab>")
    editor.ed.wait("the accept", lambda: editor.lines()[81] == "print(result)")
    assert tuple(editor.nvim.current.window.cursor) == (82, 11)
