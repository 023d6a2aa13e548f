#!/bin/sh
# Install everything the tests need into .venv and run all of them (the README's test command;
# .ci/run runs exactly this on a clean clone). Needs python3 >= 3.11, Node >= 20 with npm, and
# on Debian either Chromium and the headers code-server builds against, or apt-get as root or
# through `sudo -n` to install them (tests/editors/vscode_e2e/setup.sh).
set -eu
cd "$(dirname "$0")/.."
t0=$(date +%s)
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# Compiles llama.cpp from the llama-cpp-python sdist the first time (~7 min on 2 cores).
.venv/bin/pip install -q -e ".[test]"
echo "test.sh: installed in $(( $(date +%s) - t0 )) s"
# llama-server for the remote-engine tests (tests/e2e/test_remote_engine.py): built once from
# the llama.cpp the pinned llama-cpp-python vendors (~9 min on 2 cores), then cached.
bash scripts/build_llama_server.sh >/dev/null
.venv/bin/ruff check .
# Types: strict on the engine and the event-loop side above it (pyproject.toml [tool.mypy]).
.venv/bin/mypy
# Layers: llama_cpp only under engine/local, the floors, no import cycles (pyproject.toml).
.venv/bin/lint-imports
# The VS Code extension: unit tests and the .vsix, from its lock file.
(
  cd editors/vscode
  npm ci --no-audit --no-fund
  npm test
  npm run package
)
# The real VS Code test (tests/editors/test_vscode_e2e.py): Node 24, code-server and Chromium
# (apt-get when missing), ~6 min the first time on 2 cores, then cached in ~/.cache.
vscode_e2e_env=$(sh tests/editors/vscode_e2e/setup.sh)  # a failed setup stops here (set -e)
eval "$vscode_e2e_env"
echo "test.sh: editors built in $(( $(date +%s) - t0 )) s"
# Every test: unit, end-to-end against the real model, quantizer, editors (Neovim headless).
SMALLCODE_REQUIRE_EDITORS=1 .venv/bin/pytest -q -p no:cacheprovider "$@"
echo "test.sh: done in $(( $(date +%s) - t0 )) s"
