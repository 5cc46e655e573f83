"""Corpus annotation on one machine: docs/s and identical output across the ways to run it.

Annotates the same corpus (2,000 short sentences: MultiCoNER II English dev,
then the first sentences of its train10 split, from ``../shared/data``) with
the same pipeline (the shipped default, float32, lossless: no grammar, classes
as generated, NER with four classes) in each of these ways, each in its own
process, timed from start to finish (model loading included):

- ``pipe``: ``nlp.pipe`` in one process;
- ``apply-1`` / ``apply-2``: ``spacy apply --n-process 1 / 2`` (with two
  processes each runs one torch thread, so that they share the 2 cores);
- ``annotate``: ``knowcoder annotate`` (resumable shards);
- ``ray``: ``annotate_with_ray`` on a local 2-CPU Ray cluster, 2 actors of 1 CPU;
- ``ray-served`` (with ``--served``): the same with both actors calling one
  llama.cpp ``llama-server`` (the model converted to an f32 GGUF), which
  gets the 2 cores.

Then it checks that every way gives every document once, with the same
entities. Writes ``corpus_annotation.json`` and ``.md`` to ``--out``.

Usage:
    python benchmarks/corpus_annotation.py --docs 2000 --served
    python benchmarks/corpus_annotation.py --docs 40 --ways pipe annotate   # quick
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCHEMA = {"entities": {
    "person": "A human being, real or fictional.",
    "location": "A place: a country, city, region, river or mountain.",
    "organization": "A company, institution, team, band or agency.",
    "creative work": "A film, book, song, album, painting or video game."}}
WAYS = ["pipe", "apply-1", "apply-2", "annotate", "ray"]


def read_sentences(data: Path, n: int) -> List[str]:
    """The first ``n`` sentences of en-dev.conll, then of en-train10.conll."""
    sentences: List[str] = []
    for name in ("en-dev.conll", "en-train10.conll"):
        tokens: List[str] = []
        for line in (data / name).read_text(encoding="utf-8").splitlines() + [""]:
            if line.startswith("# id"):
                continue
            if not line.strip():
                if tokens:
                    sentences.append(" ".join(tokens))
                    tokens = []
                continue
            tokens.append(line.split(" ")[0])
        if len(sentences) >= n:
            break
    return sentences[:n]


def make_pipeline(path: Path, max_new_tokens: int, batch_size: int) -> Path:
    import spacy

    from spacy_knowcoder.generation.blocks import model_block_config

    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={
        "schema": SCHEMA, "tasks": ["ner"], "typing": "generate",
        "model": model_block_config(None, max_new_tokens=max_new_tokens, dtype="float32",
                                    constrained=False, batch_size=batch_size)})
    nlp.to_disk(path)
    return path


def command_for(way: str, pipeline: Path, corpus: Path, out: Path, batch: int,
                served_url: str, max_new_tokens: int) -> List[str]:
    python = sys.executable
    if way == "pipe":
        code = ("import sys, spacy, srsly; from spacy.tokens import DocBin; "
                "nlp = spacy.load(sys.argv[1]); "
                "texts = [r['text'] for r in srsly.read_jsonl(sys.argv[2])]; "
                "DocBin(docs=nlp.pipe(texts, batch_size=int(sys.argv[4])), "
                "store_user_data=True).to_disk(sys.argv[3])")
        return [python, "-c", code, str(pipeline), str(corpus), str(out / "docs.spacy"),
                str(batch)]
    if way.startswith("apply-"):
        return [python, "-m", "spacy", "apply", str(pipeline), str(corpus),
                str(out / "docs.spacy"), "--batch-size", str(batch), "--n-process", way[-1]]
    if way == "annotate":
        return [python, "-m", "spacy_knowcoder.cli", "annotate", str(pipeline), str(corpus),
                str(out / "shards"), "--shard-size", "250", "--batch-size", str(batch),
                "--no-progress"]
    overrides = {} if way == "ray" else {"components.knowcoder.model": {
        "@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": served_url,
        "max_new_tokens": max_new_tokens, "batch_size": 8, "concurrency": 2}}
    code = ("import json, sys, ray; from spacy_knowcoder.distributed import annotate_with_ray; "
            "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False); "
            "annotate_with_ray(sys.argv[1], sys.argv[2], sys.argv[3], shard_size=250, "
            "batch_size=int(sys.argv[4]), actors=2, cpus_per_actor=float(sys.argv[5]), "
            "overrides=json.loads(sys.argv[6]), progress=False)")
    cpus = "1" if way == "ray" else "0.5"
    return [python, "-c", code, str(pipeline), str(corpus), str(out / "shards"), str(batch),
            cpus, json.dumps(overrides)]


def read_output(way: str, out: Path) -> List[Any]:
    import spacy

    from spacy_knowcoder.annotate import read_shards
    from spacy_knowcoder.extensions import register_extensions
    from spacy.tokens import DocBin

    register_extensions()
    vocab = spacy.blank("en").vocab
    if way in ("pipe",) or way.startswith("apply-"):
        docs = list(DocBin().from_disk(out / "docs.spacy").get_docs(vocab))
    else:
        docs = list(read_shards(out / "shards", vocab))
    return [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs]


def run_way(way: str, pipeline: Path, corpus: Path, folder: Path, batch: int,
            served_url: str, max_new_tokens: int) -> Dict[str, Any]:
    out = folder / way
    timing = out / "seconds.json"
    if timing.is_file():  # --resume: measured by an earlier run on the same work folder
        return {"seconds": json.loads(timing.read_text())["seconds"],
                "output": read_output(way, out)}
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ, OMP_NUM_THREADS="1" if way == "apply-2" else "2")
    started = time.perf_counter()
    done = subprocess.run(command_for(way, pipeline, corpus, out, batch, served_url,
                                      max_new_tokens),
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{way} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    timing.write_text(json.dumps({"seconds": round(seconds, 1)}))
    return {"seconds": round(seconds, 1), "output": read_output(way, out)}


def markdown(result: Dict[str, Any]) -> str:
    lines = [f"{result['docs']} docs, {result['entities']} entities (NER, 4 classes, "
             f"float32, lossless); every way gives the same output: "
             f"{result['all_identical']}", "",
             "| way | seconds | docs/s | identical to `pipe` |", "|---|---:|---:|---|"]
    for way, row in result["ways"].items():
        lines.append(f"| {way} | {row['seconds']} | {row['docs_per_s']:.2f} | "
                     f"{row['identical_docs']}/{result['docs']} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "multiconer2_en"))
    parser.add_argument("--ways", nargs="+", default=WAYS, choices=WAYS + ["ray-served"])
    parser.add_argument("--served", action="store_true", help="add ray-served (llama-server)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--work", default="/tmp/knowcoder-corpus-benchmark")
    parser.add_argument("--resume", action="store_true",
                        help="keep the ways already measured in --work (delete a way's folder "
                             "to measure it again)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "corpus_annotation"))
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> Dict[str, Any]:
    import srsly

    args = parse_args(argv)
    ways = list(args.ways) + (["ray-served"] if args.served and "ray-served" not in args.ways
                              else [])
    work = Path(args.work)
    texts = read_sentences(Path(args.data), args.docs)
    corpus = work / "corpus.jsonl"
    records = [{"id": f"mc-{i}", "text": t} for i, t in enumerate(texts)]
    if not (args.resume and corpus.is_file() and list(srsly.read_jsonl(corpus)) == records):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        srsly.write_jsonl(corpus, records)
    pipeline = work / "pipeline"
    if not pipeline.is_dir():
        make_pipeline(pipeline, args.max_new_tokens, args.batch_size)
    results: Dict[str, Dict[str, Any]] = {}
    served_url = ""
    server = None
    if "ray-served" in ways:
        from spacy_knowcoder.generation.llama_server import convert_to_gguf, running_llama_server
        from spacy_knowcoder.generation.shipped import prepare_merged

        gguf = convert_to_gguf(prepare_merged("knowcoder-smol", work / "merged"),
                               work / "knowcoder-smol-f32.gguf", "f32")
    for way in ways:
        print(f"[{way}] {len(texts)} docs ...", flush=True)
        if way == "ray-served" and not (work / way / "seconds.json").is_file():
            server = running_llama_server(gguf, parallel=4, ctx_size=8192, threads=2)
            served_url = server.__enter__()
        try:
            results[way] = run_way(way, pipeline, corpus, work, args.batch_size, served_url,
                                   args.max_new_tokens)
        finally:
            if server is not None:
                server.__exit__(None, None, None)
                server = None
        print(f"[{way}] {results[way]['seconds']} s", flush=True)
    reference = results[ways[0]]["output"]
    table: Dict[str, Any] = {}
    for way, row in results.items():
        same = sum(a == b for a, b in zip(row["output"], reference))
        table[way] = {"seconds": row["seconds"], "docs_per_s": len(texts) / row["seconds"],
                      "docs_out": len(row["output"]), "identical_docs": same}
    result = {"docs": len(texts), "batch_size": args.batch_size,
              "max_new_tokens": args.max_new_tokens, "threads": "2 cores",
              "entities": sum(len(ents) for _, ents in reference),
              "all_identical": all(r["identical_docs"] == len(texts) == r["docs_out"]
                                   for r in table.values()),
              "ways": table}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus_annotation.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "corpus_annotation.md").write_text(markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
