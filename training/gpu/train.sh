#!/usr/bin/env bash
# The shipped default's recipe on one CUDA GPU (issue 24, part 7): build the
# profile's data, train one epoch over all of it in bf16, merge, evaluate on
# the held-out sets, and leave everything in OUTDIR.
#
#   training/gpu/train.sh OUTDIR              # on a machine with one CUDA GPU
#   training/gpu/train.sh OUTDIR --dry-run    # anywhere: 2 CPU steps, 2 docs per set
#
# Environment (all optional):
#   PROFILE      the training profile (default training/configs/multilingual.cfg,
#                the recipe of the shipped default knowcoder-x-smol)
#   BASE_MODEL   the prepared base (default models/gemma3-270m; prepared here
#                with `knowcoder prepare-model --source gemma3` when missing)
#   MICRO_BATCH  samples per step (default 16 on a GPU, 2 in a dry run)
#   EVAL_LIMIT   documents per held-out set (default 100, 2 in a dry run)
#   PYTHON       the interpreter (default .venv/bin/python, else python3)
#
# OUTDIR afterwards: data/ (samples, held-out manifest), sft/ (adapter,
# metrics.jsonl, summary.json), the merged model (the profile's [merge]
# output_dir name under OUTDIR), scores/<set>/{predictions.jsonl,scores.json},
# report/ (knowcoder report over the scores), timings.json. To ship the result
# (refused unless its held-out NER mean beats the shipped model's):
#   python -m training ship PROFILE --name knowcoder-x-smol --scores OUTDIR/scores \
#       --paths.output_dir OUTDIR --paths.data_dir OUTDIR/data
set -euo pipefail
cd "$(dirname "$0")/../.."

usage="usage: training/gpu/train.sh OUTDIR [--dry-run]"
OUT="${1:?$usage}"
DRY_RUN=0
if [ "${2:-}" = "--dry-run" ]; then
    DRY_RUN=1
elif [ -n "${2:-}" ]; then
    echo "$usage" >&2
    exit 2
fi
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
PROFILE="${PROFILE:-training/configs/multilingual.cfg}"
BASE_MODEL="${BASE_MODEL:-models/gemma3-270m}"
if [ "$DRY_RUN" = 1 ]; then
    DEVICE=cpu; MICRO_BATCH="${MICRO_BATCH:-2}"; EVAL_LIMIT="${EVAL_LIMIT:-2}"
else
    DEVICE=cuda; MICRO_BATCH="${MICRO_BATCH:-16}"; EVAL_LIMIT="${EVAL_LIMIT:-100}"
    "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" || {
        echo "training/gpu/train.sh: no CUDA GPU is visible to torch; run it on a GPU" \
             "machine, or add --dry-run to check the recipe on CPU" >&2
        exit 1
    }
fi
mkdir -p "$OUT"
now() { date +%s.%N; }
START=$(now)
PATHS=(--paths.base_model "$BASE_MODEL" --paths.data_dir "$OUT/data" --paths.output_dir "$OUT")

if [ ! -f "$BASE_MODEL/config.json" ]; then
    "$PYTHON" -m spacy_knowcoder.cli prepare-model "$BASE_MODEL" --source gemma3
fi

"$PYTHON" -m training build-data "$PROFILE" "${PATHS[@]}"
DATA_DONE=$(now)

SAMPLES=$(wc -l < "$OUT/data/sft.jsonl")
if [ "$DRY_RUN" = 1 ]; then
    STEPS=2
else
    STEPS=$(( (SAMPLES + MICRO_BATCH - 1) / MICRO_BATCH ))  # one epoch over all samples
fi
SFT=(-m training sft "$PROFILE" "${PATHS[@]}" --sft.max_steps "$STEPS"
     --sft.micro_batch_size "$MICRO_BATCH" --sft.gradient_accumulation 1
     --sft.checkpoint_every 100 --sft.autocast auto --sft.base_dtype auto --no-progress)
if [ "$DRY_RUN" = 1 ]; then
    "$PYTHON" "${SFT[@]}" --sft.max_memory_gb 40
else
    "$PYTHON" -m torch.distributed.run --nproc_per_node 1 "${SFT[@]}"
fi
SFT_DONE=$(now)

"$PYTHON" -m training merge "$PROFILE" "${PATHS[@]}"
MERGED=$("$PYTHON" - "$PROFILE" "$OUT" "$BASE_MODEL" <<'EOF'
import sys
from training.config import load_config
cfg = load_config(sys.argv[1], {"paths.output_dir": sys.argv[2], "paths.base_model": sys.argv[3]})
print(cfg.merge.output_dir)
EOF
)

# One line per held-out set: dataset, file, label file, language (dry run: two sets).
"$PYTHON" - "$OUT/data/heldout/manifest.json" "$DRY_RUN" > "$OUT/heldout_sets.tsv" <<'EOF'
import json, sys
from pathlib import Path
manifest = Path(sys.argv[1])
entries = json.loads(manifest.read_text(encoding="utf8"))
if sys.argv[2] == "1":
    entries = [e for e in entries if e["dataset"] in ("re3d", "universal_ner_pt")]
for e in entries:
    print("\t".join([e["dataset"], str(manifest.parent / e["file"]), e["label_file"],
                     e.get("language", "en")]))
EOF
while IFS=$'\t' read -r name file labels lang; do
    "$PYTHON" -m spacy_knowcoder.cli evaluate "$MERGED" "$file" "$labels" \
        --output "$OUT/scores/$name" --name "$name" --limit "$EVAL_LIMIT" \
        --batch-size 32 --max-new-tokens 96 --lang "$lang" --device "$DEVICE"
done < "$OUT/heldout_sets.tsv"
"$PYTHON" -m spacy_knowcoder.cli report "$OUT"/scores/*/scores.json --output "$OUT/report"
END=$(now)

"$PYTHON" - "$OUT" "$START" "$DATA_DONE" "$SFT_DONE" "$END" "$SAMPLES" "$STEPS" \
    "$MICRO_BATCH" "$DEVICE" <<'EOF'
import json, sys
from pathlib import Path
out, start, data, sft, end = sys.argv[1], *map(float, sys.argv[2:6])
timings = {"build_data_s": round(data - start, 1), "sft_s": round(sft - data, 1),
           "merge_and_evaluate_s": round(end - sft, 1), "total_s": round(end - start, 1),
           "samples": int(sys.argv[6]), "steps": int(sys.argv[7]),
           "micro_batch": int(sys.argv[8]), "device": sys.argv[9]}
if sys.argv[9] == "cuda":
    import torch
    timings["gpu"] = torch.cuda.get_device_name(0)
Path(out, "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf8")
print(json.dumps(timings, indent=2))
EOF
