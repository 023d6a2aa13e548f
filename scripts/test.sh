#!/bin/sh
# Install everything the tests need into .venv and run all of them (the README's test command;
# .ci/run runs exactly this on a clean clone). Needs python3 >= 3.11 and Node >= 20 with npm.
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
# The VS Code extension: unit tests and the .vsix, from its lock file.
(
  cd editors/vscode
  npm ci --no-audit --no-fund
  npm test
  npm run package
)
echo "test.sh: editors built in $(( $(date +%s) - t0 )) s"
# Every test: unit, end-to-end against the real model, quantizer, editors (Neovim headless).
SMALLCODE_REQUIRE_EDITORS=1 .venv/bin/pytest -q -p no:cacheprovider "$@"
echo "test.sh: done in $(( $(date +%s) - t0 )) s"
