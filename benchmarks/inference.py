"""Inference speed, output identity, constrained validity, memory and long documents.

Runs the knowcoder component on real sentences (MultiCoNER II English dev, from
``../shared/data``) with a 16-class NER schema and a joint NER+RE schema, and
compares it with a naive loop that calls ``generate`` once per document and task
without the prefix cache (batch size 1). Reports:

- docs/s of the naive loop and of the component in lossless mode (batched,
  prefix cache, no grammar), and whether every completion is identical, in each
  of ``--dtypes`` (the model loaded once per dtype; the naive loop runs in the
  same dtype as the component it is compared with);
- the component in constrained mode (in the first dtype): docs/s, share of
  completions that parse completely, classes outside the schema, mentions not in
  the text, and items repeated beyond what the text holds (a mention, whatever
  its class, written more often than it occurs; a relation written twice: the
  decoder's own definition, ``constrained.repeat_flags``);
- peak RSS, and RSS every 100 docs over ``--rss-docs`` documents;
- a ``--long-words`` document: windows, entities in the first and last window,
  every offset valid;
- with ``--llama-server``: the same model converted to a GGUF (``--gguf-type``:
  ``f32`` to compare outputs with the float32 naive loop, ``bf16`` to compare
  speed with the bf16 component) and served by llama.cpp's ``llama-server``
  (``bin/build-llama-server.sh``) through the OpenAI-compatible backend,
  unconstrained (identical to the naive loop of the matching dtype?) and with
  the schema's GBNF grammar (``grammar = "llama.cpp"``; prompt cache on).

Writes ``inference.json`` and ``inference.md`` to ``--out``.

Usage:
    OMP_NUM_THREADS=2 python benchmarks/inference.py --n-docs 200
    python benchmarks/inference.py --n-docs 8 --rss-docs 50 --long-words 3000  # quick
    knowcoder prepare-model models/knowcoder-x-smol --source knowcoder-x-smol   # the trained default
    OMP_NUM_THREADS=2 python benchmarks/inference.py --model models/knowcoder-x-smol \
        --schemas ner16 --dtypes bfloat16,float32 --llama-server --gguf-type bf16
"""
import argparse
import json
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence

import spacy

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from spacy_knowcoder.generation import GenerationSettings, HFGenerator  # noqa: E402
from spacy_knowcoder.generation.blocks import KnowCoderModel  # noqa: E402
from spacy_knowcoder.generation.constrained import repeat_flags  # noqa: E402
from spacy_knowcoder.parsing import EventItem, RelationItem, parse_completion  # noqa: E402
from spacy_knowcoder.prompting import render_query, wrap_query  # noqa: E402
from spacy_knowcoder.schema import schema_from_dict  # noqa: E402

NER_SCHEMA = {"entities": {
    "artist": "A person known for creative work: musician, painter, writer, actor.",
    "athlete": "A person who competes in sports.",
    "politician": "A person active in government or party politics.",
    "scientist": "A person who does scientific research.",
    "other person": "A named person who is not an artist, athlete, politician or scientist.",
    "organization": "A company, institution, agency or other group of people.",
    "sports group": "A sports team or club.",
    "musical group": "A band, orchestra or other group of musicians.",
    "human settlement": "A city, town, village or other place where people live.",
    "facility": "A building, airport, stadium, bridge or other built structure.",
    "station": "A railway, bus or metro station.",
    "visual work": "A film, television series, photograph or video game.",
    "musical work": "A song, album or other piece of music.",
    "written work": "A book, poem, newspaper or other written work.",
    "software": "A computer program or operating system.",
    "disease": "An illness or medical condition.",
}}
JOINT_SCHEMA = {
    "entities": {"person": "A human being.",
                 "organization": "A company, institution or other group of people.",
                 "location": "A city, country, region or other place.",
                 "work": "A film, song, book or other creative work."},
    "relations": {
        "member of": {"description": "The person belongs to the organization.",
                      "head": ["person"], "tail": ["organization"]},
        "located in": {"description": "The head is located in the location.",
                       "head": ["organization", "location"], "tail": ["location"]},
        "born in": {"description": "The person was born in the location.",
                    "head": ["person"], "tail": ["location"]},
        "author of": {"description": "The person created the work.",
                      "head": ["person"], "tail": ["work"]},
    },
}


def read_sentences(path: Path, n: int, skip: int = 0) -> List[str]:
    """The first ``n`` sentences (after ``skip``) of a CoNLL file, tokens joined by spaces."""
    sentences: List[str] = []
    tokens: List[str] = []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("# id"):
            continue
        if not line.strip():
            if tokens:
                sentences.append(" ".join(tokens))
                tokens = []
            if len(sentences) >= n + skip:
                break
            continue
        tokens.append(line.split(" ")[0])
    return sentences[skip:skip + n]


def rss_mb() -> float:
    """Current resident set size in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_nlp(gen: HFGenerator, schema: Dict[str, Any], tasks: Sequence[str],
             settings: GenerationSettings) -> Any:
    nlp = spacy.blank("en")
    # Decoding only: the typing stage is measured by benchmarks/class_following.py.
    pipe = nlp.add_pipe("knowcoder", config={"schema": schema, "tasks": list(tasks),
                                             "store_completions": True, "typing": "generate"})
    pipe.model_block = KnowCoderModel(None, settings)
    pipe.generator = HFGenerator.from_objects(gen.model, gen.tokenizer, settings)
    return nlp


def naive_loop(gen: HFGenerator, schema: Dict[str, Any], tasks: Sequence[str],
               texts: Sequence[str], max_new_tokens: int) -> Dict[str, Any]:
    """One generate call per document and task, no cache, batch size 1."""
    settings = GenerationSettings(max_new_tokens=max_new_tokens, batch_size=1,
                                  prefix_cache=False, constrained=False)
    naive = HFGenerator.from_objects(gen.model, gen.tokenizer, settings)
    resolved = schema_from_dict(schema)
    completions: Dict[str, List[str]] = {task: [] for task in tasks}
    start = time.perf_counter()
    for text in texts:
        for task in tasks:
            prompt = wrap_query(render_query(task, resolved, text))
            completions[task].append(naive.generate([prompt])[0])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "docs_per_s": len(texts) / seconds, "completions": completions}


def run_component(gen: HFGenerator, schema: Dict[str, Any], tasks: Sequence[str],
                  texts: Sequence[str], settings: GenerationSettings) -> Dict[str, Any]:
    nlp = make_nlp(gen, schema, tasks, settings)
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=64))
    seconds = time.perf_counter() - start
    completions = {task: [d._.knowcoder_diagnostics["completions"].get(task, [""])[0]
                          for d in docs] for task in tasks}
    return {"seconds": seconds, "docs_per_s": len(texts) / seconds, "completions": completions,
            "docs": docs, "cache": nlp.get_pipe("knowcoder").generator.prefix_cache}


def run_served(url: str, schema: Dict[str, Any], tasks: Sequence[str], texts: Sequence[str],
               args: argparse.Namespace, grammar: Any) -> Dict[str, Any]:
    """The component on llama-server: one request of ``batch_size`` prompts at a time
    unconstrained, or each prompt alone with its grammar, ``batch_size`` in flight."""
    nlp = spacy.blank("en")
    block = {"@llm_models": "spacy_knowcoder.OpenAIModel.v1", "url": url,
             "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
             "max_context": 4096, "grammar": grammar,
             "concurrency": args.batch_size if grammar else 1}
    nlp.add_pipe("knowcoder", config={"schema": schema, "tasks": list(tasks), "model": block,
                                      "store_completions": True, "typing": "generate"})
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=64))
    seconds = time.perf_counter() - start
    completions = {task: [d._.knowcoder_diagnostics["completions"].get(task, [""])[0]
                          for d in docs] for task in tasks}
    return {"seconds": seconds, "docs_per_s": len(texts) / seconds, "completions": completions}


def validity(completions: Dict[str, List[str]], texts: Sequence[str],
             schema: Dict[str, Any]) -> Dict[str, Any]:
    """Parse every completion: complete lists, classes in the schema, mentions in the text."""
    from spacy_knowcoder.extractor import classes_for

    resolved = schema_from_dict(schema)
    argument_classes = ["Entity"] + [e.class_name for e in resolved.entities]
    total = parsed = bad_classes = bad_mentions = items = repeats = 0
    for task, outs in completions.items():
        classes = classes_for(task, resolved)
        for text, out in zip(texts, outs):
            result = parse_completion(out, task, classes, argument_classes)
            total += 1
            parsed += int(result.ok)
            bad_classes += result.dropped_classes
            for item in result.items:
                items += 1
                bad_mentions += sum(int(m not in text) for m in _mentions(item))
            repeats += sum(repeat_flags(result.items, text, task))
    return {"completions": total, "parsed_fully": parsed, "parse_rate": parsed / max(1, total),
            "classes_outside_schema": bad_classes, "mentions_not_in_text": bad_mentions,
            "repeats_beyond_occurrences": repeats, "items": items}


def _mentions(item: Any) -> List[str]:
    if isinstance(item, RelationItem):
        return [item.head, item.tail]
    if isinstance(item, EventItem):
        return [item.trigger] + [a.text for a in item.arguments]
    return [item.text]


def completion_tokens(tokenizer: Any, completions: Dict[str, List[str]]) -> int:
    """Tokens of all completions by the model's tokenizer: rows that write more
    items take more decode steps, so docs/s alone does not compare two runs whose
    outputs differ."""
    return sum(len(tokenizer(text, add_special_tokens=False)["input_ids"])
               for outs in completions.values() for text in outs)


def compare(a: Dict[str, List[str]], b: Dict[str, List[str]]) -> Dict[str, Any]:
    pairs = [(x, y) for task in a for x, y in zip(a[task], b[task])]
    same = sum(x == y for x, y in pairs)
    return {"identical": same, "total": len(pairs), "all_identical": same == len(pairs)}


def benchmark_schema(name: str, gens: Dict[str, HFGenerator], schema: Dict[str, Any],
                     tasks: List[str], texts: List[str], args: argparse.Namespace
                     ) -> Dict[str, Any]:
    """Per dtype the naive loop and the lossless component; then, in the first dtype,
    the constrained component and the served rows."""
    result: Dict[str, Any] = {"tasks": tasks, "n_docs": len(texts),
                              "n_classes": len(schema_from_dict(schema).entities),
                              "dtypes": {}}
    naive_runs: Dict[str, Dict[str, Any]] = {}
    for dtype, gen in gens.items():
        print(f"[{name}] {dtype}: naive loop on {len(texts)} docs ...", flush=True)
        naive = naive_loop(gen, schema, tasks, texts, args.max_new_tokens)
        naive_runs[dtype] = naive
        settings = GenerationSettings(max_new_tokens=args.max_new_tokens, dtype=dtype,
                                      batch_size=args.batch_size, constrained=False)
        print(f"[{name}] {dtype}: component, lossless ...", flush=True)
        lossless = run_component(gen, schema, tasks, texts, settings)
        result["dtypes"][dtype] = {
            "naive": {"seconds": naive["seconds"], "docs_per_s": naive["docs_per_s"],
                      "tokens": completion_tokens(gen.tokenizer, naive["completions"]),
                      **validity(naive["completions"], texts, schema)},
            "lossless": {"seconds": lossless["seconds"], "docs_per_s": lossless["docs_per_s"],
                         "tokens": completion_tokens(gen.tokenizer, lossless["completions"]),
                         "speedup": naive["seconds"] / lossless["seconds"],
                         "vs_naive": compare(naive["completions"], lossless["completions"]),
                         "prefix_cache_hits": lossless["cache"].hits,
                         "prefix_cache_misses": lossless["cache"].misses}}
    first = next(iter(gens))
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens, dtype=first,
                                  batch_size=args.batch_size, constrained=True)
    print(f"[{name}] {first}: component, constrained ...", flush=True)
    constrained = run_component(gens[first], schema, tasks, texts, settings)
    result["constrained"] = {"dtype": first, "seconds": constrained["seconds"],
                             "docs_per_s": constrained["docs_per_s"],
                             "tokens": completion_tokens(gens[first].tokenizer,
                                                         constrained["completions"]),
                             "speedup": naive_runs[first]["seconds"] / constrained["seconds"],
                             **validity(constrained["completions"], texts, schema)}
    result.update(served_rows(name, schema, tasks, texts, args, naive_runs,
                              gens[first].tokenizer))
    return result


#: The torch dtype whose naive loop a GGUF type is compared with.
GGUF_DTYPES = {"f32": "float32", "bf16": "bfloat16"}


def served_rows(name: str, schema: Dict[str, Any], tasks: List[str], texts: List[str],
                args: argparse.Namespace, naive_runs: Dict[str, Dict[str, Any]],
                tokenizer: Any) -> Dict[str, Any]:
    """The llama-server rows, compared with the naive loop of the GGUF's dtype (or
    of the first dtype when that one was not run)."""
    if not args.gguf:
        return {}
    naive = naive_runs.get(GGUF_DTYPES.get(args.gguf_type, ""),
                           next(iter(naive_runs.values())))
    from spacy_knowcoder.generation.llama_server import running_llama_server

    rows: Dict[str, Any] = {}
    for key, grammar in (("served_lossless", None), ("served_grammar", "llama.cpp")):
        # A fresh server per row: its slots keep whole prompts, so a second run over
        # the same documents would find each document's prompt cached, not just the
        # schema prefix.
        with running_llama_server(args.gguf, parallel=args.batch_size, threads=2,
                                  ctx_size=4096 * args.batch_size) as url:
            print(f"[{name}] llama-server, {key} ...", flush=True)
            run = run_served(url, schema, tasks, texts, args, grammar)
            rows[key] = {"gguf_type": args.gguf_type,
                         "seconds": run["seconds"], "docs_per_s": run["docs_per_s"],
                         "tokens": completion_tokens(tokenizer, run["completions"]),
                         "speedup": naive["seconds"] / run["seconds"],
                         "vs_naive": compare(naive["completions"], run["completions"]),
                         **validity(run["completions"], texts, schema)}
    return rows


def memory_run(gen: HFGenerator, texts: List[str], n_docs: int,
               args: argparse.Namespace) -> Dict[str, Any]:
    """RSS every 100 docs over ``n_docs`` documents (the sentences, repeated)."""
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens,
                                  batch_size=args.batch_size, constrained=True)
    nlp = make_nlp(gen, NER_SCHEMA, ["ner"], settings)
    stream = (texts[i % len(texts)] for i in range(n_docs))
    samples = []
    step = max(1, min(100, n_docs // 10))
    for i, _ in enumerate(nlp.pipe(stream, batch_size=64), 1):
        if i % step == 0:
            samples.append({"docs": i, "rss_mb": round(rss_mb(), 1)})
            print(f"[memory] {i} docs, RSS {samples[-1]['rss_mb']} MiB", flush=True)
    half = samples[len(samples) // 2]["rss_mb"] if samples else 0.0
    growth = samples[-1]["rss_mb"] - half if samples else 0.0
    return {"n_docs": n_docs, "samples": samples, "growth_second_half_mb": growth,
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def long_document(gen: HFGenerator, sentences: List[str], words: int,
                  args: argparse.Namespace) -> Dict[str, Any]:
    """A ``words``-word document of real sentences through the component (constrained)."""
    parts: List[str] = []
    count = 0
    for sentence in sentences * (words // max(1, sum(len(s.split()) for s in sentences)) + 2):
        if count >= words:
            break
        text = sentence[:1].upper() + sentence[1:] + "."
        parts.append(text)
        count += len(text.split())
    text = " ".join(parts)
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens,
                                  batch_size=args.batch_size, constrained=True)
    nlp = make_nlp(gen, NER_SCHEMA, ["ner"], settings)
    start = time.perf_counter()
    doc = nlp(text)
    seconds = time.perf_counter() - start
    spans = list(doc.spans["knowcoder"])
    valid = all(0 <= s.start_char < s.end_char <= len(doc.text)
                and doc.text[s.start_char:s.end_char] == s.text for s in spans)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windows = nlp.get_pipe("knowcoder")._windows(doc)  # the same split the run used
    first, last = windows[0], windows[-1]
    return {"words": len(text.split()), "chars": len(text), "windows": len(windows),
            "seconds": seconds, "entities": len(spans), "offsets_valid": valid,
            "entities_in_first_window": any(s.end_char <= first.end_char for s in spans),
            "entities_in_last_window": any(s.start_char >= last.start_char for s in spans),
            "last_window_start": last.start_char,
            "last_entity_end": max((s.end_char for s in spans), default=0)}


def markdown(results: Dict[str, Any]) -> str:
    lines = ["| schema | mode | dtype | docs/s | speedup | output tokens/s | items | "
             "identical to naive | parse rate | classes outside | mentions not in text | "
             "repeats beyond occurrences |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def rate(row: Dict[str, Any]) -> str:
        return f"{row['tokens'] / row['seconds']:.1f} | {row.get('items', '-')}"

    for name, r in results["schemas"].items():
        for dtype, d in r["dtypes"].items():
            nv, ll = d["naive"], d["lossless"]
            lines.append(f"| {name} | naive loop | {dtype} | {nv['docs_per_s']:.3f} | 1.00x | "
                         f"{rate(nv)} | - | "
                         f"{nv['parse_rate']:.0%} | {nv['classes_outside_schema']} | "
                         f"{nv['mentions_not_in_text']} | {nv['repeats_beyond_occurrences']} |")
            lines.append(f"| {name} | component lossless | {dtype} | {ll['docs_per_s']:.3f} | "
                         f"{ll['speedup']:.2f}x | {rate(ll)} | {ll['vs_naive']['identical']}/"
                         f"{ll['vs_naive']['total']} | - | - | - | - |")
        co = r["constrained"]
        lines.append(f"| {name} | component constrained | {co['dtype']} | "
                     f"{co['docs_per_s']:.3f} | {co['speedup']:.2f}x | {rate(co)} | - | "
                     f"{co['parse_rate']:.0%} | {co['classes_outside_schema']} | "
                     f"{co['mentions_not_in_text']} | {co['repeats_beyond_occurrences']} |")
        for key, label in (("served_lossless", "llama-server, no grammar"),
                           ("served_grammar", "llama-server, GBNF grammar")):
            if key in r:
                sv = r[key]
                lines.append(f"| {name} | {label} | GGUF {sv['gguf_type']} | "
                             f"{sv['docs_per_s']:.3f} | {sv['speedup']:.2f}x | {rate(sv)} | "
                             f"{sv['vs_naive']['identical']}/{sv['vs_naive']['total']} | "
                             f"{sv['parse_rate']:.0%} | {sv['classes_outside_schema']} | "
                             f"{sv['mentions_not_in_text']} | "
                             f"{sv['repeats_beyond_occurrences']} |")
    lines += ["", "Speedups are against the naive loop of the same dtype (the served rows: "
              "of the GGUF's dtype when it was run)."]
    if "memory" in results:
        m = results["memory"]
        lines += ["", f"Memory: peak RSS {m['peak_rss_mb']} MiB; RSS growth over the second "
                  f"half of {m['n_docs']} docs: {m['growth_second_half_mb']:.1f} MiB."]
    if "long_document" in results:
        ld = results["long_document"]
        lines += ["", f"Long document: {ld['words']} words, {ld['windows']} windows, "
                  f"{ld['entities']} entities, first window: {ld['entities_in_first_window']}, "
                  f"last window: {ld['entities_in_last_window']}, offsets valid: "
                  f"{ld['offsets_valid']}, {ld['seconds']:.1f} s."]
    lines += ["", f"Settings: {json.dumps(results['settings'])}"]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(REPO / "models" / "smollm2-135m"))
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "multiconer2_en"
                                              / "en-dev.conll"))
    parser.add_argument("--n-docs", type=int, default=200)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rss-docs", type=int, default=1000, help="0 skips the memory run")
    parser.add_argument("--long-words", type=int, default=20000, help="0 skips it")
    parser.add_argument("--schemas", default="ner16,joint")
    parser.add_argument("--dtypes", default="auto",
                        help="comma-separated torch dtypes to run (auto, float32, bfloat16)")
    parser.add_argument("--llama-server", action="store_true",
                        help="add llama-server rows (the --model converted to a GGUF)")
    parser.add_argument("--gguf-type", default="f32", choices=sorted(GGUF_DTYPES),
                        help="the served GGUF's weights")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> Dict[str, Any]:
    args = parse_args(argv)
    args.gguf = None
    if args.llama_server:
        import tempfile

        from spacy_knowcoder.generation.llama_server import convert_to_gguf

        args.gguf = convert_to_gguf(args.model, Path(tempfile.mkdtemp())
                                    / f"model-{args.gguf_type}.gguf", outtype=args.gguf_type)
    texts = read_sentences(Path(args.data), args.n_docs)
    gens: Dict[str, HFGenerator] = {}
    for setting in filter(None, args.dtypes.split(",")):
        loaded = HFGenerator(args.model, GenerationSettings(max_new_tokens=args.max_new_tokens,
                                                            dtype=setting))
        gens[str(loaded.model.dtype).replace("torch.", "")] = loaded  # "auto" resolved
    gen = next(iter(gens.values()))
    results: Dict[str, Any] = {"settings": {k: str(v) if isinstance(v, Path) else v
                                            for k, v in vars(args).items()},
                               "schemas": {}}
    choices = {"ner16": (NER_SCHEMA, ["ner"]), "joint": (JOINT_SCHEMA, ["ner", "re"])}
    for name in filter(None, args.schemas.split(",")):
        schema, tasks = choices[name]
        results["schemas"][name] = benchmark_schema(name, gens, schema, tasks, texts, args)
    if args.rss_docs:
        results["memory"] = memory_run(gen, texts, args.rss_docs, args)
    if args.long_words:
        print(f"[long] {args.long_words}-word document ...", flush=True)
        pool = read_sentences(Path(args.data), 2000)
        results["long_document"] = long_document(gen, pool, args.long_words, args)
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "inference.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / "inference.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
