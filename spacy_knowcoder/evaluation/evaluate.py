"""Run a knowcoder pipeline (or a bare model) over a benchmark dataset and score it.

``evaluate_dataset`` reads a dataset and its label file (``corpora.benchmark``),
makes the label file the component's schema, runs the pipeline with a progress
bar, writes ``predictions.jsonl`` (same format as the dataset) and
``scores.json``. ``score_predictions`` scores an existing predictions file; it
is also what ``evaluate_dataset`` calls, so both give the same numbers.

Nothing here knows a dataset: the label file says which tasks can run (NER for
``entity_labels``, RE for ``relation_labels``, ED and EAE for ``event_types``).
With ``tasks=["eae"]`` alone the gold triggers are given to the model, as in
the reference EAE evaluation; with ``["ed", "eae"]`` arguments are extracted
for the predicted triggers (end to end).

Example:
    >>> result = evaluate_dataset("models/smollm2-135m", "test.jsonl", "labels.json",
    ...                           "eval/wikigold", limit=20)  # doctest: +SKIP
    >>> result["headline"]  # doctest: +SKIP
    {'ner': 0.41}
"""
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc

from ..corpora.benchmark import LabelSet, Record, check_labels, read_benchmark
from ..corpora.benchmark import read_label_file, write_benchmark
from ..errors import Errors
from ..extensions import DIAGNOSTICS, EVENTS, register_extensions
from ..fileio import write_json
from ..generation.blocks import HF_MODEL, HF_SETTINGS, model_block_config
from ..tasks import TASKS
from .gold_docs import doc_to_record
from ..class_scoring import SCORED_TASKS
from ..fileio import file_sha256
from .resume import PartialPredictions
from .metrics import HEADLINE, LabelMatcher, has_scores, score_records, threshold_curve

PathLike = Union[str, Path]
PREDICTIONS = "predictions.jsonl"
SCORES = "scores.json"
#: The precision-recall chart over the score threshold (only for scored predictions).
THRESHOLD_PLOT = "threshold_curve.png"
FACTORY = "knowcoder"
DIAGNOSTIC_COUNTS = ("parse_failures", "parse_problems", "dropped_classes",
                     "dropped_mentions", "dropped_items")


def label_file_tasks(labels: LabelSet, tasks: Optional[Sequence[str]],
                  labels_path: PathLike = "<labels>") -> List[str]:
    """The tasks to evaluate: those given (E462 unless the label file has their
    section) or all the label file supports.

    Example:
        >>> label_file_tasks(LabelSet(entity_labels={"person": "A human."}), None)
        ['ner']
    """
    if not tasks:
        return labels.tasks
    sections = {"ner": "entity_labels", "re": "relation_labels", "ed": "event_types",
                "eae": "event_types"}
    for task in tasks:
        if task not in TASKS or task not in labels.tasks:
            raise ValueError(Errors.E462.format(task=task, path=labels_path,
                                                section=sections.get(task, "labels"),
                                                options=", ".join(labels.tasks)))
    return [t for t in TASKS if t in tasks]


def load_pipeline(model: str, labels: LabelSet, tasks: Sequence[str], *,
                  batch_size: Optional[int] = None,
                  max_new_tokens: Optional[int] = None,
                  settings: Optional[Mapping[str, Any]] = None,
                  lang: Optional[str] = None) -> Tuple[Language, str]:
    """A pipeline whose knowcoder component uses the label file as its schema.

    model (str): A spaCy pipeline directory or installed package with a knowcoder
        component, a shipped model's name ("knowcoder-smol"), or a model
        directory/.gguf file (then a blank pipeline of ``lang`` gets the component).
    lang (Optional[str]): The language of the text (``spacy.blank(lang)``, so
        Chinese is split into characters); default English. A loaded pipeline
        keeps its own language (E471 if another is asked for).
    settings (Mapping[str, Any]): Further component settings to override, e.g.
        ``{"typing": "score", "threshold": 0.5}``; generation settings
        (``dtype``, ``constrained``, ...) go into the model block.
    RETURNS (Tuple[Language, str]): The pipeline and the component's name.
    """
    import spacy

    path = Path(model).expanduser()
    overrides: Dict[str, Any] = {"schema": labels.schema_dict(), "schema_file": None,
                                 "tasks": list(tasks), "labels": {}}
    generation: Dict[str, Any] = {"batch_size": batch_size, "max_new_tokens": max_new_tokens}
    for key, value in (settings or {}).items():
        (generation if key in HF_SETTINGS else overrides)[key] = value
    if (path / "config.cfg").is_file() or (not path.exists() and spacy.util.is_package(model)):
        nlp = spacy.load(model)
        if lang is not None and lang != nlp.lang:
            raise ValueError(Errors.E471.format(model=model, pipeline_lang=nlp.lang, lang=lang))
        return nlp, _reconfigure(nlp, model, overrides, generation)
    from ..models import is_shipped_name

    if is_shipped_name(model) or (path / "config.json").is_file() \
            or (path.is_file() and path.suffix == ".gguf"):
        source = model if is_shipped_name(model) else str(path)
        nlp = blank_pipeline(lang or "en")
        nlp.add_pipe(FACTORY, config=dict(overrides,
                                          model=model_block_config(source, **generation)))
        return nlp, FACTORY
    raise ValueError(Errors.E460.format(model=model))


def blank_pipeline(lang: str) -> Language:
    """``spacy.blank(lang)``; an unknown code gets E472."""
    import spacy

    try:
        return spacy.blank(lang)
    except (ImportError, KeyError, ValueError) as err:
        raise ValueError(Errors.E472.format(lang=lang, reason=str(err).splitlines()[0])) \
            from None


def _reconfigure(nlp: Language, model: str, overrides: Dict[str, Any],
                 generation: Dict[str, Any]) -> str:
    names = [n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory == FACTORY]
    if not names:
        raise ValueError(Errors.E461.format(model=model, pipes=", ".join(nlp.pipe_names)))
    name = names[0]
    config = {k: v for k, v in nlp.config["components"][name].items() if k != "factory"}
    # A pipeline saved before the model became a block has flat generation keys.
    saved = {key: config.pop(key) for key in HF_SETTINGS if key in config}
    saved.update((key, value) for key, value in generation.items() if value is not None)
    block = config.get("model")
    # The loaded component knows where its model is (a packaged copy included).
    located = nlp.get_pipe(name).cfg["model"]
    if isinstance(block, dict) and block.get("@llm_models") == HF_MODEL:
        block = dict(block, name=located)
    elif not isinstance(block, dict):
        block = located
    config.update(overrides, model=model_block_config(block, **saved))
    if "package_model" in config:
        config["package_model"] = False
    nlp.replace_pipe(name, FACTORY, config=config)
    return name


def predict(nlp: Language, name: str, records: Sequence[Record], *, gold_triggers: bool,
            progress: bool = True, partial: Optional[PartialPredictions] = None) -> List[Record]:
    """Run the pipeline over the records; one prediction record per input, in order.

    partial (Optional[PartialPredictions]): Where finished batches go as they are
        done; its earlier batches are kept and not predicted again.
    """
    from tqdm import tqdm

    register_extensions()
    spans_key = nlp.get_pipe(name).cfg["spans_key"]
    step = partial.step if partial else batch_step(nlp, name)
    predictions: List[Record] = partial.done() if partial else []
    with tqdm(total=len(records), initial=len(predictions), desc="knowcoder evaluate",
              unit="doc", disable=not progress) as bar:
        for start in range(len(predictions), len(records), step):
            chunk = records[start:start + step]
            docs = [_input_doc(nlp, r, gold_triggers) for r in chunk]
            batch = [_prediction(doc, record, spans_key)
                     for record, doc in zip(chunk, nlp.pipe(docs, batch_size=step))]
            if partial:
                partial.append(batch)
            predictions.extend(batch)
            bar.update(len(chunk))
    return predictions


def batch_step(nlp: Language, name: str) -> int:
    """Records per batch of :func:`predict`: the component's generation batch size."""
    return max(1, nlp.get_pipe(name).generation.batch_size)


def _input_doc(nlp: Language, record: Record, gold_triggers: bool) -> Doc:
    doc = nlp.make_doc(record["text"])
    if gold_triggers:
        doc._.set(EVENTS, [{"type": e["type"], "trigger": dict(e["trigger"]),
                            "arguments": [], "score": None} for e in record["events"]])
    return doc


def _prediction(doc: Doc, record: Record, spans_key: str) -> Record:
    prediction = doc_to_record(doc, record["id"], spans_key=spans_key)
    prediction["knowcoder_diagnostics"] = _doc_counts(doc._.get(DIAGNOSTICS) or {})
    return prediction


def _doc_counts(diagnostics: Mapping[str, Any]) -> Dict[str, int]:
    problems = diagnostics.get("problems") or {}
    return {"parse_failures": len(diagnostics.get("incomplete") or []),
            "parse_problems": sum(len(p) for p in problems.values()),
            "dropped_classes": int(diagnostics.get("dropped_classes", 0)),
            "dropped_mentions": int(diagnostics.get("dropped_mentions", 0)),
            "dropped_items": int(diagnostics.get("dropped_items", 0))}


def pair_records(gold: Sequence[Record], predicted: Sequence[Record], *,
                 data: PathLike = "<data>",
                 predictions: PathLike = "<predictions>") -> List[Tuple[Record, Record]]:
    """Pair gold and predicted records by id; missing or extra ids fail (E458)."""
    by_id = {str(r["id"]): r for r in predicted}
    gold_ids = [str(r["id"]) for r in gold]
    for which, ids in (("missing", [i for i in gold_ids if i not in by_id]),
                       ("unexpected", sorted(set(by_id) - set(gold_ids)))):
        if ids:
            raise ValueError(Errors.E458.format(path=predictions, data=data, count=len(ids),
                                                which=which, examples=", ".join(ids[:5])))
    pairs = [(r, by_id[str(r["id"])]) for r in gold]
    for gold_record, predicted_record in pairs:
        if gold_record["text"] != predicted_record["text"]:
            raise ValueError(Errors.E459.format(record=gold_record["id"], data=data))
    return pairs


def summarize_diagnostics(predictions: Iterable[Mapping[str, Any]]) -> Dict[str, int]:
    """Total parse failures and dropped (hallucinated or malformed) items."""
    totals = dict.fromkeys(DIAGNOSTIC_COUNTS, 0)
    totals["docs_with_problems"] = 0
    for record in predictions:
        counts = record.get("knowcoder_diagnostics") or {}
        for key in DIAGNOSTIC_COUNTS:
            totals[key] += int(counts.get(key, 0))
        totals["docs_with_problems"] += int(any(counts.get(k) for k in DIAGNOSTIC_COUNTS))
    totals["hallucinations"] = totals["dropped_classes"] + totals["dropped_mentions"]
    return totals


def score_predictions(gold: Sequence[Record], predicted: Sequence[Record],
                      tasks: Sequence[str], *, name: str,
                      label_matches: Optional[LabelMatcher] = None,
                      data: PathLike = "<data>",
                      predictions: PathLike = "<predictions>") -> Dict[str, Any]:
    """The scores report of predictions against gold records (see ``SCORES``)."""
    pairs = pair_records(gold, predicted, data=data, predictions=predictions)
    metrics = score_records(pairs, tasks, label_matches)
    report = {"dataset": name, "data": str(data), "n_docs": len(pairs), "tasks": list(tasks),
              "headline": {t: metrics[HEADLINE[t]]["f"] for t in tasks},
              "metrics": metrics, "diagnostics": summarize_diagnostics(predicted)}
    if has_scores(predicted):  # typing = "score": P/R/F1 over the score threshold
        report["threshold_curve"] = {t: threshold_curve(pairs, t, label_matches=label_matches)
                                     for t in tasks if t in SCORED_TASKS}
    return report


def score_files(data: PathLike, predictions: PathLike, labels_path: PathLike, *,
                tasks: Optional[Sequence[str]] = None, name: Optional[str] = None,
                limit: Optional[int] = None,
                label_matches: Optional[LabelMatcher] = None) -> Dict[str, Any]:
    """Score a predictions JSONL file against a dataset and its label file.

    limit (int): Score against the first ``limit`` gold records only (the
        ``--limit`` the predictions were made with).
    """
    labels = read_label_file(labels_path)
    gold = read_benchmark(data, limit=limit)
    check_labels(gold, labels, data=data, labels_path=labels_path)
    predicted = read_benchmark(predictions)
    return score_predictions(gold, predicted, label_file_tasks(labels, tasks, labels_path),
                             name=name or Path(data).stem, label_matches=label_matches,
                             data=data, predictions=predictions)


def evaluate_dataset(model: str, data: PathLike, labels_path: PathLike, output: PathLike, *,
                     limit: Optional[int] = None, tasks: Optional[Sequence[str]] = None,
                     batch_size: Optional[int] = None, max_new_tokens: Optional[int] = None,
                     name: Optional[str] = None, label_matches: Optional[LabelMatcher] = None,
                     progress: bool = True,
                     settings: Optional[Mapping[str, Any]] = None,
                     lang: Optional[str] = None) -> Dict[str, Any]:
    """Predict a dataset with a model and write ``predictions.jsonl`` and ``scores.json``.

    Batches are saved as they finish; rerunning the same command after a kill
    continues from the last saved batch (``evaluation/resume.py``).

    model (str): A pipeline (directory or package) or a model directory.
    data (PathLike): The benchmark JSONL file.
    labels_path (PathLike): Its label file.
    output (PathLike): The output directory.
    limit (int): Evaluate only the first ``limit`` records.
    tasks (Sequence[str]): Tasks to run; default: all the label file supports.
    settings (Mapping[str, Any]): Component settings to override (``load_pipeline``).
    lang (Optional[str]): Language of the text, for a blank pipeline (``load_pipeline``);
        the scores record the pipeline's language.
    RETURNS (Dict[str, Any]): The scores report (also written to ``scores.json``).
    """
    labels = read_label_file(labels_path)
    gold = read_benchmark(data, limit=limit)
    check_labels(gold, labels, data=data, labels_path=labels_path)
    tasks = label_file_tasks(labels, tasks, labels_path)
    nlp, pipe_name = load_pipeline(model, labels, tasks, batch_size=batch_size,
                                   max_new_tokens=max_new_tokens, settings=settings,
                                   lang=lang)
    output = Path(output)
    step = batch_step(nlp, pipe_name)
    partial = PartialPredictions(output, {
        "model": str(model), "data": str(data), "data_sha256": file_sha256(data),
        "labels": str(labels_path), "limit": limit, "tasks": list(tasks), "batch_size": step,
        "max_new_tokens": max_new_tokens, "settings": dict(settings or {})}, step)
    resumed = len(partial.done())
    start = time.perf_counter()
    predicted = predict(nlp, pipe_name, gold, gold_triggers="eae" in tasks and "ed" not in tasks,
                        progress=progress, partial=partial)
    seconds = time.perf_counter() - start
    write_benchmark(output / PREDICTIONS, predicted)
    partial.finish()
    scores = score_predictions(gold, predicted, tasks, name=name or Path(data).stem,
                               label_matches=label_matches, data=data,
                               predictions=output / PREDICTIONS)
    fresh = len(gold) - resumed
    scores.update(model=str(model), labels=str(labels_path), limit=limit,
                  seconds=seconds, docs_per_second=fresh / seconds if seconds and fresh else None,
                  resumed_docs=resumed, settings=dict(settings or {}), language=nlp.lang)
    write_json(output / SCORES, scores)
    if scores.get("threshold_curve"):
        from .plot import plot_threshold_curve

        plot_threshold_curve(scores["threshold_curve"], output / THRESHOLD_PLOT,
                             title=scores["dataset"])
    return scores
