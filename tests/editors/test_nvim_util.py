"""The plugin's suggestion text math (smallcode.util), in a bare headless Neovim: no server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from editor_env import EDITORS, nvim_binary

CASES = [
    # (function, argument, expected)
    ("next_word", "foo(bar)", "foo"),
    ("next_word", "  return n", "  return"),
    ("next_word", "(bar)", "("),
    ("next_word", "\n        return n", "\n        "),
    ("next_line", "return n\n    x", "return n"),
    ("next_line", "\n        return n\n", "\n        return n"),
]

SCRIPT = """
vim.opt.rtp:prepend(arg[1])
local util = require('smallcode.util')
local out = {}
for _, c in ipairs(vim.json.decode(arg[2])) do
  out[#out + 1] = util[c[1]](c[2])
end
-- remaining(): typed text is skipped, a mismatch or another row gives nil
local item = { text = '    if n < 2:', start_row = 1, start_col = 0, origin_col = 4 }
out[#out + 1] = util.remaining(item, '    if', 1, 6) or vim.NIL
out[#out + 1] = util.remaining(item, '    of', 1, 6) or vim.NIL
out[#out + 1] = util.remaining(item, '    if', 2, 6) or vim.NIL
out[#out + 1] = util.lsp_len('aé😀', 'utf-16')
io.stdout:write(vim.json.encode(out))
"""


@pytest.mark.parametrize("version", ["0.12", "0.11"])
def test_text_math(version: str, tmp_path: Path) -> None:
    cases = json.dumps([c[:2] for c in CASES])
    script = tmp_path / "t.lua"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [
            nvim_binary(version),
            "--clean",
            "--headless",
            "-l",
            str(script),
            str(EDITORS / "nvim"),
            cases,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(done.stdout)
    assert got[: len(CASES)] == [c[2] for c in CASES]
    assert got[len(CASES) :] == [" n < 2:", None, None, 4]


STATUS_SCRIPT = """
vim.opt.rtp:prepend(arg[1])
local status = require('smallcode.status')
local last = { generatedTokens = 21, generateMs = 500 }
local remote = { state = 'ready', engine = 'remote', engineUrl = 'http://gpu:8080', last = last,
  model = '/m/gemma-3-270m.gguf' }
local out = { status.describe(remote), status.describe({ state = 'loading', engine = 'local' }),
  status.describe({ state = 'ready' }) }
status.update(1, remote)
out[#out + 1] = status.statusline()
status.update(1, { state = 'ready', engine = 'local' })
out[#out + 1] = status.statusline()
io.stdout:write(vim.json.encode(out))
"""


@pytest.mark.parametrize("version", ["0.12", "0.11"])
def test_status_says_local_or_remote(version: str, tmp_path: Path) -> None:
    script = tmp_path / "s.lua"
    script.write_text(STATUS_SCRIPT)
    argv = [nvim_binary(version), "--clean", "--headless", "-l", str(script), str(EDITORS / "nvim")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [
        "smallcode: ready (remote http://gpu:8080), model gemma-3-270m.gguf",
        "smallcode: loading (local)",
        "smallcode: ready",  # a server that does not say
        "smallcode: ready (remote) 42 tok/s",
        "smallcode: ready (local)",
    ]
