#!/usr/bin/env bash
# Builds llama-server and llama-bench from the llama.cpp that the pinned llama-cpp-python vendors,
# so reference numbers come from the same C code as our engine.
#
#   scripts/build_llama_server.sh            # ~9 min on 2 cores; prints the bin dir last
#
# Installs into ${SMALLCODE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/smallcode-lsp}/llama.cpp-<ver>/:
#   bin/      llama-server, llama-bench (static llama/ggml: nothing to find at run time)
#   source/   the vendored llama.cpp tree (benchmarks/big_real_files.py reads its C/C++ files)
# Idempotent: when both binaries exist it prints the bin dir and exits.
# Environment: PYTHON (the pip to download with), JOBS (build parallelism, default 2).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=$(sed -n 's/.*"llama-cpp-python==\([^"]*\)".*/\1/p' "$ROOT/pyproject.toml")
if [[ -z $VERSION ]]; then
    echo "no llama-cpp-python==<version> pin in $ROOT/pyproject.toml" >&2
    exit 1
fi
CACHE=${SMALLCODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smallcode-lsp}
DEST=$CACHE/llama.cpp-$VERSION
BIN=$DEST/bin

if [[ -x $BIN/llama-server && -x $BIN/llama-bench && -d $DEST/source ]]; then
    echo "$BIN"
    exit 0
fi

if [[ -z ${PYTHON:-} ]]; then
    if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/llama.cpp-$VERSION.build.XXXXXX")  # same filesystem: renames are atomic
trap 'rm -rf "$WORK"' EXIT

echo "downloading the llama-cpp-python $VERSION sdist" >&2
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
    "llama-cpp-python==$VERSION" -d "$WORK" >&2
tar -xzf "$WORK/llama_cpp_python-$VERSION.tar.gz" -C "$WORK"
SRC=$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp

# Static libraries (no libllama.so to find at run time); no network at build time (the web UI's
# prebuilt assets come from a Hugging Face bucket: off, the server runs with --no-webui anyway).
cmake -S "$SRC" -B "$WORK/build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF >&2
cmake --build "$WORK/build" -j "${JOBS:-2}" --target llama-server llama-bench >&2

mkdir -p "$WORK/bin"
for tool in llama-server llama-bench; do
    found=$(find "$WORK/build" -type f -name "$tool" -perm -u+x | head -n 1)
    if [[ -z $found ]]; then
        echo "$tool was not built" >&2
        exit 1
    fi
    install -m 755 "$found" "$WORK/bin/$tool"
    if ldd "$WORK/bin/$tool" | grep -q "not found"; then
        ldd "$WORK/bin/$tool" >&2
        echo "$tool needs a shared library that is not installed" >&2
        exit 1
    fi
done

mkdir -p "$DEST"
rm -rf "$DEST/source" "$BIN"
mv "$SRC" "$DEST/source"
mv "$WORK/bin" "$BIN"
echo "$BIN"
