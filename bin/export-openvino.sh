#!/usr/bin/env bash
# Export a merged knowcoder model (a Hugging Face directory) to OpenVINO IR with
# its tokenizer, for OpenVINO GenAI (benchmarks/engines.py):
#
#   bash bin/export-openvino.sh models/knowcoder-x-smol .openvino/knowcoder-x-smol
#
# The exporter (optimum-intel) supports transformers < 5 only, so it runs in its
# own environment, .openvino/tools (git-ignored, built once: torch's CPU wheel,
# optimum-intel with OpenVINO). Running the IR needs only `pip install
# openvino-genai` in the project's environment. Weights stay float32; the
# inference precision (f32 or bf16) is chosen when the model is loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
    echo "usage: bash bin/export-openvino.sh MODEL_DIR OUT_DIR" >&2
    exit 2
fi
MODEL="$1"
OUT="$2"
if [ ! -f "$MODEL/config.json" ]; then
    echo "error: $MODEL is not a Hugging Face model directory (no config.json); merge or" \
         "prepare one first, e.g. knowcoder prepare-model models/knowcoder-x-smol" \
         "--source knowcoder-x-smol" >&2
    exit 1
fi
TOOLS=.openvino/tools
PYTHON="${PYTHON:-python3}"
if [ ! -x "$TOOLS/bin/optimum-cli" ]; then
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    # torch first (the local CPU wheel), so the exporter's requirements do not pull CUDA
    "$TOOLS/bin/python" -m pip install --quiet "torch==2.13.0"
    "$TOOLS/bin/python" -m pip install --quiet "torch==2.13.0" "transformers>=4.57,<5" \
        "optimum-intel[openvino]==2.2.0"
    # optimum-intel pulls a torchvision built for another torch; the export does not use it
    "$TOOLS/bin/python" -m pip uninstall --quiet --yes torchvision
fi
"$TOOLS/bin/optimum-cli" export openvino --model "$MODEL" --task text-generation-with-past \
    --weight-format fp32 "$OUT"
echo "exported: $OUT"
