"""The output head on a strided input: what ``contiguous_head_input`` saves.

When a decoding step feeds several tokens per row, the model keeps only the last
position of each row for its head (``logits_to_keep=1``): a strided view of the
hidden states. This times ``F.linear`` of that view and of a contiguous copy,
with the head shapes of the embedded bases (Gemma 3 270M: 262,144 x 640;
SmolLM2-135M: 49,152 x 576), 8 rows, in float32 and bfloat16, then one real
decoding pass of the shipped model with and without the fix.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/strided_head.py
    OMP_NUM_THREADS=2 python benchmarks/strided_head.py --models knowcoder-x-smol --docs 8
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
HEADS = {"gemma3-270m": (262_144, 640), "smollm2-135m": (49_152, 576)}
OUT = REPO / "benchmarks" / "results" / "strided_head.json"


def time_linear(vocab: int, hidden: int, dtype: Any, rows: int = 8, block: int = 52,
                repeats: int = 3) -> Dict[str, float]:
    """Milliseconds of the head on the last position of ``rows`` x ``block`` states."""
    import torch
    import torch.nn.functional as F

    weight = torch.randn(vocab, hidden, dtype=dtype)
    last = torch.randn(rows, block, hidden, dtype=dtype)[:, -1:, :]
    result = {}
    for name, inputs in (("strided", last), ("contiguous", last.contiguous())):
        F.linear(inputs, weight)
        start = time.perf_counter()
        for _ in range(repeats):
            F.linear(inputs, weight)
        result[name] = round((time.perf_counter() - start) / repeats * 1000, 1)
    return result


def time_component(model: str, docs: int, fixed: bool) -> float:
    """Seconds for the component (defaults: constrained, typing by score) on WNUT-17
    texts, with or without the contiguous head input."""
    import spacy

    from spacy_knowcoder.generation import hf

    texts = [json.loads(line)["text"] for line in
             (REPO / "training/long/data/heldout/wnut17.jsonl").open(encoding="utf8")][:docs]
    original = hf.contiguous_head_input
    if not fixed:
        hf.contiguous_head_input = lambda model: None
    try:
        nlp = spacy.blank("en")
        nlp.add_pipe("knowcoder", config={
            "model": {"@llm_models": "spacy_knowcoder.HFModel.v1", "name": model,
                      "max_new_tokens": 96},
            "schema": {"entities": {"person": "A human being.",
                                    "location": "A place.",
                                    "organization": "A company or institution."}}})
        nlp.get_pipe("knowcoder").generator  # load outside the timing
        start = time.perf_counter()
        list(nlp.pipe(texts, batch_size=8))
        return round(time.perf_counter() - start, 1)
    finally:
        hf.contiguous_head_input = original
        from spacy_knowcoder.generation.blocks import release_shared_generators

        release_shared_generators()


def main(argv: Sequence[str] = ()) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["knowcoder-x-smol", "knowcoder-smol"])
    parser.add_argument("--docs", type=int, default=16)
    args = parser.parse_args(list(argv) or None)
    rows: List[Dict[str, Any]] = []
    for base, (vocab, hidden) in HEADS.items():
        for dtype in (torch.float32, torch.bfloat16):
            row = {"head": base, "dtype": str(dtype).replace("torch.", ""),
                   **time_linear(vocab, hidden, dtype)}
            print(row, flush=True)
            rows.append(row)
    component = []
    for model in args.models:
        for fixed in (False, True):
            row = {"model": model, "docs": args.docs, "contiguous_head_input": fixed,
                   "seconds": time_component(model, args.docs, fixed)}
            print(row, flush=True)
            component.append(row)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"linear_ms": rows, "component": component,
                               "threads": torch.get_num_threads()}, indent=2) + "\n",
                   encoding="utf8")


if __name__ == "__main__":
    main(sys.argv[1:])
