"""Plan KnowCoder prompts for docs and write the parsed answers back on them.

This is the part of extraction that does not care *how* text is generated:
the ``knowcoder`` component feeds the prompts to its own generator, the
spacy-llm task feeds them to any spacy-llm model. Both share this one
implementation of prompt building, parsing, alignment and writing.

A run over some docs has three steps:

1. ``start(doc, windows)`` gives a ``DocState`` per doc (one
   ``WindowExtraction`` per window, plus diagnostics).
2. For each task in order, ``jobs(task, states)`` lists the ``PromptJob``s;
   a generator completes ``job.prompt``; ``apply(job, completion, state)``
   parses and places the answer (or ``parse``, then ``place``, with the
   typing stage of ``class_scoring`` in between). EAE jobs exist only for
   windows with confirmed triggers, so run ED before EAE.
3. ``finish(doc, state)`` writes ``doc.ents``/``doc.spans``,
   ``doc._.relations``, ``doc._.events`` and ``doc._.knowcoder_diagnostics``.

Example:
    >>> extractor = Extractor(schema, ["ner"])  # doctest: +SKIP
    >>> state = extractor.start(doc, [doc[:]])  # doctest: +SKIP
    >>> for job in extractor.jobs("ner", [state]):  # doctest: +SKIP
    ...     extractor.apply(job, generate(job.prompt), state)
    >>> extractor.finish(doc, state)  # doctest: +SKIP
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Doc, Span, SpanGroup

from .align import ALIGNMENT_MODES, merge_entities
from .class_scoring import CONTENT_FREE_TEXT
from .errors import Warnings, check_choice, warn
from .extensions import DIAGNOSTICS, EVENTS, RELATIONS, register_extensions
from .extraction import WindowExtraction
from .parsing import ParseResult, parse_completion
from .prompting import QUOTINGS, Trigger, render_query, wrap_query
from .schema.types import BASE_ENTITY, Schema
from .tasks import TASK_SECTIONS

#: Where the entity scores of the typing stage go: ``doc.spans[spans_key].attrs["scores"]``,
#: one per span (None for a span that was not scored), as spaCy's spancat does.
SCORES_ATTR = "scores"

# Chooses the schema(s) a prompt shows for a task and a window text. The
# default shows the whole schema in one prompt; a schema library plugs in
# candidate selection here (several schemas = several prompts, merged).
CandidateSelector = Callable[[str, Schema, str], list[Schema]]


def whole_schema(task: str, schema: Schema, text: str) -> list[Schema]:
    """The default selector: every class of the schema, in one prompt."""
    return [schema]


@dataclass
class DocState:
    """The work in progress for one doc: its windows and what went wrong."""

    extractions: list[WindowExtraction]
    diagnostics: dict[str, Any]


@dataclass
class PromptJob:
    """One prompt to complete: a task on one window with one candidate schema.

    doc_index (int): Which of the docs handed to ``jobs`` it belongs to.
    task (str): "ner", "re", "ed" or "eae".
    extraction (WindowExtraction): Where the answer is placed.
    schema (Schema): The classes the prompt shows (the candidates).
    triggers (Sequence[Trigger]): Confirmed triggers (EAE only).
    prompt (str): The full prompt (system text, ``Input:``, query, ``Output:``).
    classes (Dict[str, Sequence[str]]): Class names the answer may use, with
        their roles for events; what the parser (and a constrained decoder)
        accept.
    argument_classes (Sequence[str]): Classes that may wrap an argument mention.
    """

    doc_index: int
    task: str
    extraction: WindowExtraction
    schema: Schema
    triggers: Sequence[Trigger]
    prompt: str
    classes: dict[str, Sequence[str]]
    argument_classes: Sequence[str] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The window text the prompt asks about."""
        return self.extraction.window.text



def check_output_settings(quoting: str, alignment_mode: str) -> None:
    """E017 for a ``quoting`` or ``alignment_mode`` the extractor does not know.

    The knowcoder component and the spacy-llm task both check their settings
    here, when they are configured.

    Example:
        >>> check_output_settings("python", "expand")
    """
    check_choice("quoting", quoting, QUOTINGS)
    check_choice("alignment_mode", alignment_mode, ALIGNMENT_MODES)

class Extractor:
    """Build prompts for docs and write parsed completions back on them.

    schema (Schema): The full schema (labels, class names, roles).
    tasks (Sequence[str]): The tasks to run, in order (see ``tasks.TASKS``).
    quoting (str): How the text is quoted ("python" or "reference").
    alignment_mode (str): "strict", "expand" or "contract" (see ``align``).
    annotate_ents (bool): Also write entities to ``doc.ents``.
    overwrite_ents (bool): Let predictions replace overlapping existing entities.
    spans_key (str): The span group that receives every predicted entity.
    store_completions (bool): Keep the raw completions in the diagnostics.
    select (CandidateSelector): Chooses the classes each prompt shows.
    """

    def __init__(self, schema: Schema, tasks: Sequence[str], *, quoting: str = "python",
                 alignment_mode: str = "expand", annotate_ents: bool = True,
                 overwrite_ents: bool = False, spans_key: str = "knowcoder",
                 store_completions: bool = False,
                 select: CandidateSelector = whole_schema) -> None:
        check_output_settings(quoting, alignment_mode)
        register_extensions()
        self.schema = schema
        self.tasks = list(tasks)
        self.quoting = quoting
        self.alignment_mode = alignment_mode
        self.annotate_ents = annotate_ents
        self.overwrite_ents = overwrite_ents
        self.spans_key = spans_key
        self.store_completions = store_completions
        self.select = select
        self._argument_classes = (BASE_ENTITY,) + tuple(e.class_name for e in schema.entities)

    # -- planning ------------------------------------------------------------

    def start(self, doc: Doc, windows: Sequence[Span]) -> DocState:
        """Begin a doc: one extraction per window (no windows for an empty doc)."""
        extractions = [WindowExtraction(w, self.schema, self.alignment_mode) for w in windows]
        if "eae" in self.tasks and "ed" not in self.tasks:
            _seed_events(doc, extractions)
        if "ner" not in self.tasks and self.spans_key in doc.spans:
            _seed_entities(doc.spans[self.spans_key], extractions)
        return DocState(extractions, _new_diagnostics(len(extractions)))

    def jobs(self, task: str, states: Sequence[DocState]) -> list[PromptJob]:
        """The prompts ``task`` needs for these docs (EAE: only windows with triggers)."""
        jobs = []
        prepare = getattr(self.select, "prepare", None)
        if prepare is not None and task != "eae":  # e.g. embed all windows in batches
            prepare(task, [e.window.text for s in states for e in s.extractions])
        for i, state in enumerate(states):
            for extraction in state.extractions:
                triggers = extraction.triggers() if task == "eae" else []
                if task == "eae" and not triggers:
                    continue
                for schema in self._candidates(task, extraction, triggers):
                    jobs.append(self._job(i, task, extraction, schema, triggers))
        return jobs

    def _candidates(self, task: str, extraction: WindowExtraction,
                    triggers: Sequence[Trigger]) -> list[Schema]:
        if task == "eae":  # the confirmed triggers fix the event classes
            return [self.schema]
        return self.select(task, self.schema, extraction.window.text) or []

    def _job(self, doc_index: int, task: str, extraction: WindowExtraction, schema: Schema,
             triggers: Sequence[Trigger]) -> PromptJob:
        query = render_query(task, schema, extraction.window.text, triggers=triggers,
                             quoting=self.quoting)
        return PromptJob(doc_index=doc_index, task=task, extraction=extraction, schema=schema,
                         triggers=tuple(triggers), prompt=wrap_query(query),
                         classes=classes_for(task, schema),
                         argument_classes=self._argument_classes)

    # -- applying ------------------------------------------------------------

    def apply(self, job: PromptJob, completion: str, state: DocState) -> ParseResult:
        """Parse a completion of ``job.prompt`` and place its items on the doc."""
        return self.place(job, completion, self.parse(job, completion), state)

    def parse(self, job: PromptJob, completion: str) -> ParseResult:
        """The items of a completion (checked against the job's classes), not placed yet."""
        return parse_completion(completion, job.task, job.classes, job.argument_classes)

    def typing_job(self, jobs: Sequence[PromptJob]) -> PromptJob:
        """One job whose prompt shows every class the given jobs show.

        The jobs are one task's prompts for one window (several when a selection
        policy split the candidates); the typing stage scores their items
        against this prompt, so a class competes with the classes of the other
        prompts too. One job is returned as it is.
        """
        if len(jobs) == 1:
            return jobs[0]
        first = jobs[0]
        section = TASK_SECTIONS[first.task]
        shown = {t.class_name for job in jobs for t in getattr(job.schema, section)}
        union = Schema(**{section: tuple(t for t in getattr(self.schema, section)
                                         if t.class_name in shown)})
        return self._job(first.doc_index, first.task, first.extraction, union, first.triggers)

    def content_free_prompt(self, job: PromptJob) -> str:
        """``job.prompt`` with the content-free sentence (``class_scoring.CONTENT_FREE_TEXT``)."""
        query = render_query(job.task, job.schema, CONTENT_FREE_TEXT, triggers=job.triggers,
                             quoting=self.quoting)
        return wrap_query(query)

    def place(self, job: PromptJob, completion: str, result: ParseResult,
              state: DocState) -> ParseResult:
        """Place parsed items (of ``parse``, maybe re-typed) on the doc and count problems."""
        extraction = job.extraction
        if job.task == "ner":
            extraction.add_entities(result.items)
        elif job.task == "re":
            extraction.add_relations(result.items)
        elif job.task == "ed":
            extraction.add_events(result.items)
        else:
            extraction.add_arguments(result.items)
        _record(state.diagnostics, job.task, completion, result, self.store_completions)
        return result

    # -- writing -------------------------------------------------------------

    def finish(self, doc: Doc, state: DocState) -> Doc:
        """Write everything a doc's jobs found on the doc."""
        extractions, diag = state.extractions, state.diagnostics
        predicted = [span for e in extractions for span in e.entities]
        scores = [score for e in extractions for score in e.entity_scores]
        diag["dropped_mentions"] += sum(len(e.dropped_mentions) for e in extractions)
        if "ner" in self.tasks:
            self._write_entities(doc, predicted, scores)
        if "re" in self.tasks:
            relations = doc._.get(RELATIONS)
            new = [r for e in extractions for r in e.relations]
            doc._.set(RELATIONS, relations + [r for r in _unique(new) if r not in relations])
        if "ed" in self.tasks or "eae" in self.tasks:
            self._write_events(doc, extractions)
        doc._.set(DIAGNOSTICS, diag)
        return doc

    def _write_entities(self, doc: Doc, predicted: list[Span],
                        scores: list[float | None]) -> None:
        key = self.spans_key
        # Like spaCy's spancat: one score per span in the group's attrs (typing = "score").
        attrs = {SCORES_ATTR: scores} if any(s is not None for s in scores) else {}
        doc.spans[key] = SpanGroup(doc, name=key, spans=predicted, attrs=attrs)
        if not self.annotate_ents:
            return
        ents, _, displaced = merge_entities(list(doc.ents), predicted, self.overwrite_ents)
        doc.set_ents(ents, default="unmodified")
        if displaced:
            doc.spans[f"{key}_displaced"] = SpanGroup(doc, spans=displaced)

    def _write_events(self, doc: Doc, extractions: list[WindowExtraction]) -> None:
        if not extractions:  # an empty doc: nothing ran, keep what is there
            return
        events = [e for extraction in extractions for e in extraction.events]
        if "ed" in self.tasks:
            existing = doc._.get(EVENTS)
            events = existing + [e for e in events if e not in existing]
        doc._.set(EVENTS, events)


#: The schema section of each task's candidate classes.


def classes_for(task: str, schema: Schema) -> dict[str, Sequence[str]]:
    """The class names (with roles, for events) an answer to ``task`` may use."""
    if task == "ner":
        return {e.class_name: () for e in schema.entities}
    if task == "re":
        return {r.class_name: () for r in schema.relations}
    return {e.class_name: e.roles for e in schema.events}


#: The diagnostics counters of dropped predictions, with the reason W001 gives.
DROP_REASONS = (("dropped_classes", "used classes outside the schema"),
                ("dropped_mentions", "were not found in the text"),
                ("dropped_items", "were malformed"))


def warn_dropped(docs: Sequence[Doc],
                 diagnostics: Sequence[dict[str, Any]] | None = None) -> None:
    """Warn (W001) once for a batch of docs if any of them dropped items.

    docs (Sequence[Doc]): The docs of one call or batch.
    diagnostics (Optional[Sequence[dict]]): The diagnostics to count, one per
        doc; default: each doc's ``doc._.knowcoder_diagnostics``.
    """
    if diagnostics is None:
        diagnostics = [doc._.get(DIAGNOSTICS) or {} for doc in docs]
    totals = {key: sum(d.get(key, 0) for d in diagnostics) for key, _ in DROP_REASONS}
    affected = [doc for doc, d in zip(docs, diagnostics)
                if any(d.get(key, 0) for key, _ in DROP_REASONS)]
    if not affected:
        return
    reasons = [f"{totals[key]} {reason}" for key, reason in DROP_REASONS if totals[key]]
    warn(Warnings.W001.format(count=sum(totals.values()), kind="items",
                              n_docs=len(affected), n_total=len(docs),
                              doc=_preview(affected[0]), reason="; ".join(reasons)))


def _new_diagnostics(n_windows: int) -> dict[str, Any]:
    return {"windows": n_windows, "problems": {}, "incomplete": [], "dropped_classes": 0,
            "dropped_items": 0, "dropped_mentions": 0, "completions": {}}


def _record(diag: dict[str, Any], task: str, completion: str, result: ParseResult,
            store_completion: bool) -> None:
    if result.problems:
        diag["problems"].setdefault(task, []).extend(result.problems)
    if not result.complete and task not in diag["incomplete"]:
        diag["incomplete"].append(task)
    diag["dropped_classes"] += result.dropped_classes
    diag["dropped_items"] += result.dropped_items
    if store_completion:
        diag["completions"].setdefault(task, []).append(completion)


def _seed_events(doc: Doc, extractions: list[WindowExtraction]) -> None:
    """For EAE without ED: give each window the doc's existing events inside it."""
    for event in doc._.get(EVENTS):
        for extraction in extractions:
            window = extraction.window
            if window.start_char <= event["trigger"]["start"] < window.end_char:
                extraction.events.append(event)
                break


def _seed_entities(spans: SpanGroup, extractions: list[WindowExtraction]) -> None:
    """Without NER: label argument mentions by an earlier run's entities (spans_key)."""
    for span in spans:
        for extraction in extractions:
            window = extraction.window
            if window.start_char <= span.start_char < window.end_char:
                extraction.know_entity(span)
                break


def _unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in records:
        if record not in out:
            out.append(record)
    return out


def _preview(doc: Doc) -> str:
    text = doc.text.replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."
