"""In-process CPU engines against torch: docs/s and identical greedy outputs.

The component decodes with torch (``HFGenerator``: batching, the schema prefix's
KV cache, constrained decoding). This benchmark asks whether another engine,
run in the same process, beats it on this machine (issue 14, part 4). Every
engine completes the *same* KnowCoder prompts (16-class NER, ``NER_SCHEMA`` of
``benchmarks/inference.py``, MultiCoNER II English dev sentences from
``../shared/data``) greedily, without a grammar, and each completion is compared
with the naive torch loop of the matching precision (batch 1, no prefix cache):

- **torch**: the naive loop, and ``HFGenerator`` as the component runs it
  (prefix cache, ``--batch-sizes``), in float32 and bfloat16;
- **CTranslate2** (``pip install ctranslate2``): the merged model converted
  in float32 and int8 (``int8_float32``: int8 weights, float32 activations);
  the schema prefix goes in as ``static_prompt`` (its state is computed once and
  cached by CTranslate2), each document's rest as start tokens, sorted by length
  into batches; a row stops once its list closes (a ``callback``). CTranslate2 4.8
  has no bfloat16 on CPU and no grammar;
- **OpenVINO GenAI** (``pip install openvino-genai``, an IR exported by
  ``bin/export-openvino.sh``): ``ContinuousBatchingPipeline`` with prefix caching,
  prompts submitted ``--batch-sizes`` at a time (40 at once ran 3.4x slower than 8 at
  a time, presumably all prefilled before the first prefix was cached), inference
  precision f32 and bf16; stop strings end a row at its list's close.

int8 and bf16 rows are compared with the bfloat16 / float32 naive loop as noted
in the table (``vs naive``). Every completion is cut where the component cuts
it (``truncate_completion``: after the list closes).

Writes ``engines.json`` and ``engines.md`` to ``--out``.

Usage:
    knowcoder prepare-model models/knowcoder-x-smol --source knowcoder-x-smol
    pip install ctranslate2==4.8.5 openvino-genai==2026.4.1.0
    bash bin/export-openvino.sh models/knowcoder-x-smol .openvino/knowcoder-x-smol
    OMP_NUM_THREADS=2 python benchmarks/engines.py --model models/knowcoder-x-smol \\
        --openvino-model .openvino/knowcoder-x-smol --n-docs 200
    python benchmarks/engines.py --n-docs 8 --engines torch,ctranslate2  # quick
"""
import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from inference import NER_SCHEMA, compare, completion_tokens, naive_loop  # noqa: E402
from inference import read_sentences  # noqa: E402
from spacy_knowcoder.answer import LIST_CLOSE  # noqa: E402
from spacy_knowcoder.generation import GenerationSettings, HFGenerator  # noqa: E402
from spacy_knowcoder.generation.base import list_is_closed, truncate_completion  # noqa: E402
from spacy_knowcoder.prompting import render_query, wrap_query  # noqa: E402
from spacy_knowcoder.schema import schema_from_dict  # noqa: E402

ENGINES = ("torch", "ctranslate2", "openvino")
#: CTranslate2 quantization -> the torch naive loop it is compared with.
CT2_TYPES = {"float32": "float32", "int8_float32": "float32"}
#: OpenVINO inference precision -> the torch naive loop it is compared with.
OV_PRECISIONS = {"f32": "float32", "bf16": "bfloat16"}
#: Tokens one OpenVINO scheduler step may take (a whole prompt's prefill fits).
OV_BATCHED_TOKENS = 4096
#: Where a list can close: ``results = []`` or a closing bracket on its own line.
OV_STOP_STRINGS = {"= []", LIST_CLOSE}


def make_prompts(texts: Sequence[str]) -> List[str]:
    """The KnowCoder NER prompt of each text (no BOS; engines add it), as
    ``naive_loop`` builds it."""
    schema = schema_from_dict(NER_SCHEMA)
    return [wrap_query(render_query("ner", schema, text)) for text in texts]


def timed(run: Any) -> Tuple[Any, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def finish(text: str) -> str:
    """A completion cut where the component cuts it."""
    return truncate_completion(text)[0]


def row(engine: str, precision: str, batch: int, seconds: float, outputs: List[str],
        naive: Optional[Dict[str, Any]], compared_with: str, tokenizer: Any) -> Dict[str, Any]:
    n = len(outputs)
    result = {"engine": engine, "precision": precision, "batch": batch, "seconds": seconds,
              "docs_per_s": n / seconds, "compared_with": compared_with,
              "tokens": completion_tokens(tokenizer, {"ner": outputs})}
    if naive is not None:
        same = compare({"ner": naive["outputs"]}, {"ner": outputs})
        result["identical"], result["total"] = same["identical"], same["total"]
        # the first few differences, to see what kind they are
        result["differences"] = [{"doc": i, "naive": a, "engine": b} for i, (a, b)
                                 in enumerate(zip(naive["outputs"], outputs)) if a != b][:5]
        result["speedup"] = naive["seconds"] / seconds
    return result


def torch_rows(model: str, texts: List[str], prompts: List[str], args: argparse.Namespace
               ) -> Tuple[List[Dict[str, Any]], Dict[str, Dict[str, Any]], HFGenerator]:
    """The naive loop of ``benchmarks/inference.py`` (every engine's reference) and,
    with the torch engine, the component's generator, per dtype."""
    rows: List[Dict[str, Any]] = []
    naive_runs: Dict[str, Dict[str, Any]] = {}
    for dtype in ("float32", "bfloat16"):
        gen = HFGenerator(model, GenerationSettings(dtype=dtype))
        tokenizer = gen.tokenizer
        print(f"torch {dtype}: naive loop on {len(texts)} texts ...", flush=True)
        naive = naive_loop(gen, NER_SCHEMA, ["ner"], texts, args.max_new_tokens)
        outputs, seconds = naive["completions"]["ner"], naive["seconds"]
        naive_runs[dtype] = {"outputs": outputs, "seconds": seconds}
        rows.append(row("torch naive loop", dtype, 1, seconds, outputs, None, "-", tokenizer))
        for batch in args.batch_sizes if "torch" in args.engines else ():
            fast = HFGenerator.from_objects(gen.model, gen.tokenizer, GenerationSettings(
                dtype=dtype, batch_size=batch, constrained=False,
                max_new_tokens=args.max_new_tokens))
            print(f"torch {dtype}: component generator, batch {batch} ...", flush=True)
            outputs, seconds = timed(lambda: fast.generate(prompts))
            rows.append(row("torch component (prefix cache)", dtype, batch, seconds, outputs,
                            naive_runs[dtype], dtype, tokenizer))
    return rows, naive_runs, gen


def ctranslate2_rows(model: str, prompts: List[str], naive_runs: Dict[str, Dict[str, Any]],
                     gen: HFGenerator, args: argparse.Namespace) -> List[Dict[str, Any]]:
    """CTranslate2 with the schema prefix as ``static_prompt``, per quantization.

    Prompts are split into the schema prefix and each document's rest where the
    component splits them (``HFGenerator.encode_split``), so every engine sees the
    token ids torch sees."""
    import ctranslate2
    from ctranslate2.converters import TransformersConverter

    tokenizer = gen.tokenizer
    splits = [gen.encode_split(p) for p in prompts]
    prefixes = {tuple(prefix) for prefix, _ in splits}
    if len(prefixes) != 1:
        raise ValueError(f"static_prompt needs one schema prefix; the prompts have "
                         f"{len(prefixes)}")
    static = tokenizer.convert_ids_to_tokens(splits[0][0])
    ids = [suffix for _, suffix in splits]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    rows = []
    for quantization, compared in CT2_TYPES.items():
        folder = Path(tempfile.mkdtemp(prefix="ct2-")) / quantization
        print(f"ctranslate2 {quantization}: converting ...", flush=True)
        TransformersConverter(model).convert(str(folder), quantization=quantization)
        generator = ctranslate2.Generator(str(folder), device="cpu", intra_threads=args.threads)
        for batch in args.batch_sizes:
            print(f"ctranslate2 {quantization}: batch {batch} ...", flush=True)
            outputs, seconds = timed(lambda: _ct2_generate(generator, tokenizer, ids, order,
                                                           static, batch, args))
            rows.append(row("CTranslate2 (static_prompt)", quantization, batch, seconds,
                            outputs, naive_runs.get(compared), compared, tokenizer))
    return rows


def _ct2_generate(generator: Any, tokenizer: Any, ids: List[List[int]], order: List[int],
                  static: List[str], batch: int, args: argparse.Namespace) -> List[str]:
    outputs = [""] * len(ids)
    for start in range(0, len(order), batch):
        chunk = order[start:start + batch]
        written: Dict[int, List[int]] = {i: [] for i in range(len(chunk))}

        def closed(step: Any) -> bool:
            written[step.batch_id].append(step.token_id)
            return list_is_closed(tokenizer.decode(written[step.batch_id]))

        results = generator.generate_batch(
            [tokenizer.convert_ids_to_tokens(ids[i]) for i in chunk],
            static_prompt=static, max_length=args.max_new_tokens,
            include_prompt_in_result=False, end_token=[tokenizer.eos_token_id],
            callback=closed)
        for i, result in zip(chunk, results):
            outputs[i] = finish(tokenizer.decode(result.sequences_ids[0],
                                                 skip_special_tokens=True))
    return outputs


def openvino_rows(folder: Path, prompts: List[str], naive_runs: Dict[str, Dict[str, Any]],
                  gen: HFGenerator, args: argparse.Namespace) -> List[Dict[str, Any]]:
    """OpenVINO GenAI's continuous-batching pipeline with prefix caching, per precision."""
    import openvino_genai

    rows = []
    for precision, compared in OV_PRECISIONS.items():
        for batch in args.batch_sizes:
            scheduler = openvino_genai.SchedulerConfig()
            scheduler.enable_prefix_caching = True
            scheduler.cache_size = 2  # GB of KV cache
            scheduler.max_num_seqs = batch
            scheduler.max_num_batched_tokens = OV_BATCHED_TOKENS
            pipe = openvino_genai.ContinuousBatchingPipeline(
                str(folder), scheduler, "CPU",
                {"INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": args.threads})
            config = openvino_genai.GenerationConfig()
            config.max_new_tokens = args.max_new_tokens
            config.apply_chat_template = False
            config.stop_strings = OV_STOP_STRINGS
            config.include_stop_str_in_output = True
            print(f"openvino {precision}: at most {batch} sequences in flight ...", flush=True)
            outputs, seconds = timed(lambda: [
                finish(r.m_generation_ids[0]) for start in range(0, len(prompts), batch)
                for r in pipe.generate(prompts[start:start + batch],
                                       [config] * len(prompts[start:start + batch]))])
            rows.append(row("OpenVINO GenAI (continuous batching, prefix caching)", precision,
                            batch, seconds, outputs, naive_runs.get(compared), compared,
                            gen.tokenizer))
    return rows


def markdown(result: Dict[str, Any]) -> str:
    lines = [f"{result['n_docs']} documents, 16-class NER, max_new_tokens "
             f"{result['max_new_tokens']}, {result['threads']} threads, model "
             f"`{result['model']}`", "",
             "| engine | precision | batch | docs/s | vs naive (same precision) | "
             "identical to naive | output tokens |", "|---|---|---:|---:|---:|---|---:|"]
    for r in result["rows"]:
        speed = f"{r['speedup']:.2f}x" if "speedup" in r else "1.00x"
        same = (f"{r['identical']}/{r['total']} ({r['compared_with']})"
                if "identical" in r else "-")
        lines.append(f"| {r['engine']} | {r['precision']} | {r['batch']} | "
                     f"{r['docs_per_s']:.3f} | {speed} | {same} | {r['tokens']} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "models" / "knowcoder-x-smol"),
                        help="a merged HF model directory")
    parser.add_argument("--openvino-model", type=Path, default=None,
                        help="its OpenVINO IR (bin/export-openvino.sh); needed for openvino")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"
                                              / "multiconer2_en" / "en-dev.conll"))
    parser.add_argument("--n-docs", type=int, default=200)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[8, 32])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "engines")
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    unknown = sorted(set(args.engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines {unknown}; choose from {list(ENGINES)}")
    if "openvino" in args.engines and args.openvino_model is None:
        parser.error("--engines openvino needs --openvino-model (bash bin/export-openvino.sh "
                     "MODEL OUT writes one)")
    return args


def main(argv: Sequence[str]) -> Dict[str, Any]:
    args = parse_args(argv)
    warnings.simplefilter("ignore")
    texts = read_sentences(Path(args.data), args.n_docs)
    prompts = make_prompts(texts)
    rows, naive_runs, gen = torch_rows(args.model, texts, prompts, args)
    if "ctranslate2" in args.engines:
        rows += ctranslate2_rows(args.model, prompts, naive_runs, gen, args)
    if "openvino" in args.engines:
        rows += openvino_rows(args.openvino_model, prompts, naive_runs, gen, args)
    result = {"model": args.model, "n_docs": len(prompts), "threads": args.threads,
              "max_new_tokens": args.max_new_tokens, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "engines.json").write_text(json.dumps(result, indent=1))
    (args.out / "engines.md").write_text(markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
