"""The KnowCoder task for spacy-llm's ``llm`` component (``spacy_knowcoder.KnowCoder.v1``).

It is a thin adapter around ``spacy_knowcoder.extractor.Extractor``, the one
implementation of KnowCoder prompt building, safe parsing, alignment and writing
that the ``knowcoder`` component uses too. So a doc gets the same
``doc.ents``/``doc.spans``, ``doc._.relations``, ``doc._.events`` and
``doc._.knowcoder_diagnostics`` from either.

How a KnowCoder run maps onto spacy-llm's one round of prompts per doc:

- one prompt per (shard, subtask, candidate schema): a doc with two shards and
  the tasks ner/re/ed gets six prompts; the task yields the doc's *shards* with
  *all* their prompts (spacy-llm hands the prompts to the model and the shards
  to ``parse_responses`` separately, so the counts may differ), and
  ``parse_responses`` maps the responses back onto the jobs ``generate_prompts``
  planned for those shards (kept until then; planned again only for shards it
  never saw);
- EAE needs the triggers that ED finds, i.e. a second round. It runs in a second
  ``llm`` component with ``tasks = ["eae"]`` placed after the one with "ed"; it
  reads the triggers from ``doc._.events``. One task with both is refused (E350);
- long docs: spacy-llm's shard mapper cuts the doc so each prompt fits the
  model's context; the shards are fused back into one doc and each shard becomes
  a window of it (see ``shards``), so offsets are computed against the whole doc.

Example:
    >>> import spacy
    >>> nlp = spacy.blank("en")
    >>> task = make_knowcoder_task(schema={"entities": {"person": "A human being."}})
    >>> prompts, shards = next(iter(task.generate_prompts([nlp("Ann met Bob.")])))
    >>> prompts[0].splitlines()[-3:]
    ['sentence = "Ann met Bob."', '', 'Output:']
    >>> doc = next(iter(task.parse_responses([shards], [['results = [Person("Ann")]']])))
    >>> [(e.text, e.label_) for e in doc.ents]
    [('Ann', 'person')]
"""
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import srsly
from spacy import util
from spacy.tokens import Doc
from spacy.training import Example
from spacy_llm.registry import registry
from spacy_llm.tasks.util.sharding import make_shard_mapper
from spacy_llm.ty import ShardMapper

from ..errors import Errors, Warnings, warn
from ..extensions import DIAGNOSTICS
from ..extractor import DocState, Extractor, PromptJob, check_output_settings, warn_dropped
from ..prompting import Trigger, render_query, wrap_query
from ..schema.build import schema_from_dict, schema_to_dict
from ..schema.io import check_schema_source, load_schema
from ..schema.render import render_schema
from ..schema.types import Schema
from ..scoring import score_knowcoder
from ..tasks import TASKS, resolve_tasks
from .examples import ExampleEvent, FewShotExample, examples_from_records
from .examples import insert_exchanges, render_exchange
from .shards import carry_doc_data, fuse_shards

TASK_NAME = "spacy_knowcoder.KnowCoder.v1"
ScorerType = Callable[..., Dict[str, Any]]
#: Docs whose planned jobs ``generate_prompts`` keeps for ``parse_responses``.
PLANS_KEPT = 4096


@dataclass
class TaskSettings:
    """How results are written (the same settings as the knowcoder component).

    quoting (str): How the text is quoted in the prompt ("python" or "reference").
    alignment_mode (str): "strict", "expand" or "contract" (see ``align``).
    annotate_ents (bool): Write entities to ``doc.ents`` (always to ``doc.spans``).
    overwrite_ents (bool): Let predictions replace overlapping existing entities.
    spans_key (str): The span group for all predicted entities.
    store_completions (bool): Keep the raw responses in the diagnostics.
    """

    quoting: str = "python"
    alignment_mode: str = "expand"
    annotate_ents: bool = True
    overwrite_ents: bool = False
    spans_key: str = "knowcoder"
    store_completions: bool = False

    def __post_init__(self) -> None:
        check_output_settings(self.quoting, self.alignment_mode)


@dataclass
class _Plan:
    """The jobs of one doc: the doc the results go to, its state and its prompts."""

    doc: Doc
    state: DocState
    jobs: List[PromptJob]


class KnowCoderTask:
    """A spacy-llm sharding task that extracts KnowCoder entities, relations, events.

    schema (Schema): The schema.
    tasks (Sequence[str]): Subtasks run by this component: any of "ner", "re",
        "ed", or only "eae" (in a second component, see the module docs).
    settings (TaskSettings): How results are written.
    examples (Sequence[FewShotExample]): Few-shot examples for every prompt.
    shard_mapper (ShardMapper): Cuts docs whose prompts exceed the context.
    scorer (Callable): Scores examples (default ``score_knowcoder``).
    """

    def __init__(self, schema: Schema, tasks: Sequence[str], *,
                 settings: Optional[TaskSettings] = None,
                 examples: Sequence[FewShotExample] = (),
                 shard_mapper: Optional[ShardMapper] = None,
                 scorer: Optional[ScorerType] = None) -> None:
        self._shard_mapper = shard_mapper or make_shard_mapper()
        self._scorer = scorer or score_knowcoder
        self._configure(schema, check_tasks(tasks, schema), settings or TaskSettings(),
                        list(examples))

    def _configure(self, schema: Schema, tasks: List[str], settings: TaskSettings,
                   examples: List[FewShotExample]) -> None:
        self.schema, self.tasks, self.settings, self.examples = schema, tasks, settings, examples
        self._extractor = Extractor(schema, tasks, **asdict(settings))
        self._exchange_cache: Dict[Tuple[str, Tuple[str, ...]], List[str]] = {}
        self._plans: "OrderedDict[Tuple[int, ...], Tuple[List[Doc], _Plan]]" = OrderedDict()

    # -- spacy-llm task interface --------------------------------------------

    def generate_prompts(self, docs: Iterable[Doc], context_length: Optional[int] = None
                         ) -> Iterable[Tuple[Iterable[str], Iterable[Doc]]]:
        """Per doc: all its KnowCoder prompts, and its shards.

        docs (Iterable[Doc]): The docs.
        context_length (Optional[int]): The model's prompt budget in tokens; None
            (unknown) means no sharding.
        YIELDS (Tuple[List[str], List[Doc]]): The prompts and the shards of a doc.
        """
        for i_doc, doc in enumerate(docs):
            if context_length is None:
                shards = [doc]
            else:
                shards = list(self._shard_mapper(doc, i_doc, context_length, self._longest_prompt))
                carry_doc_data(doc, shards)
            plan = self._plan(shards)
            self._keep_plan(shards, plan)
            yield [self._prompt(job) for job in plan.jobs], shards

    def parse_responses(self, shards: Iterable[Iterable[Doc]],
                        responses: Iterable[Iterable[str]]) -> Iterable[Doc]:
        """Parse each doc's responses and write the results on the (fused) doc.

        Bad responses (no list, unknown classes, cut off) give warnings and
        partial results, never an exception.

        shards (Iterable[Iterable[Doc]]): The shards per doc, from generate_prompts.
        responses (Iterable[Iterable[str]]): The model's responses per doc.
        YIELDS (Doc): The docs with results.
        """
        docs: List[Doc] = []
        dropped: List[Dict[str, Any]] = []  # this call's counts, before any merging
        for doc_shards, doc_responses in zip(shards, responses):
            doc, diagnostics = self._apply(list(doc_shards), list(doc_responses))
            docs.append(doc)
            dropped.append(diagnostics)
        warn_dropped(docs, dropped)  # once per call (W001), not once per doc
        yield from docs

    def scorer(self, examples: Iterable[Example]) -> Dict[str, Any]:
        """Score entities, relations and events (``scoring.score_knowcoder``)."""
        return self._scorer(examples)

    @property
    def prompt_template(self) -> str:
        """Everything that fixes the prompts besides the text (for spacy-llm's cache).

        The cache refuses a directory written with a different value, so a
        changed schema, subtask list or example set never reuses stale answers.
        """
        parts = [TASK_NAME, " ".join(self.tasks), self.settings.quoting,
                 render_schema(self.schema)]
        parts += [exchange for task in self.tasks for exchange in
                  self._exchanges(task, self.schema)]
        return "\n".join(parts)

    @property
    def labels(self) -> Tuple[str, ...]:
        """The spaCy labels of the schema's types."""
        return tuple(t.label for t in self.schema)

    # -- planning and applying -----------------------------------------------

    def _plan(self, shards: List[Doc]) -> _Plan:
        doc, windows = fuse_shards(shards)
        state = self._extractor.start(doc, windows)
        jobs = [job for task in self.tasks for job in self._extractor.jobs(task, [state])]
        return _Plan(doc, state, jobs)

    def _keep_plan(self, shards: List[Doc], plan: _Plan) -> None:
        """Keep the plan of these shards for ``parse_responses`` (the oldest go first)."""
        self._plans[tuple(map(id, shards))] = (shards, plan)
        while len(self._plans) > PLANS_KEPT:
            self._plans.popitem(last=False)

    def _take_plan(self, shards: List[Doc]) -> _Plan:
        """The plan ``generate_prompts`` made for these very shards, else a new one.

        The kept entry holds the shard docs, so their ids cannot be reused by
        other docs while it waits; it is used once.
        """
        kept = self._plans.pop(tuple(map(id, shards)), None)
        if kept is not None and all(a is b for a, b in zip(kept[0], shards)):
            return kept[1]
        return self._plan(shards)

    def _apply(self, shards: List[Doc], responses: List[Any]) -> Tuple[Doc, Dict[str, Any]]:
        """Write the results on the fused doc; RETURNS the doc and this run's diagnostics."""
        plan = self._take_plan(shards)
        if len(responses) != len(plan.jobs):
            warn(Warnings.W350.format(n_responses=len(responses), n_prompts=len(plan.jobs),
                                      doc=plan.doc.text[:40]))
            responses = (responses + [""] * len(plan.jobs))[:len(plan.jobs)]
        for job, response in zip(plan.jobs, responses):
            self._extractor.apply(job, response if isinstance(response, str) else "",
                                  plan.state)
        previous = plan.doc._.get(DIAGNOSTICS) or {}
        self._extractor.finish(plan.doc, plan.state)
        diagnostics = plan.doc._.get(DIAGNOSTICS)
        if previous:
            plan.doc._.set(DIAGNOSTICS, merge_diagnostics(previous, diagnostics, self.tasks))
        return plan.doc, diagnostics

    def _prompt(self, job: PromptJob) -> str:
        return insert_exchanges(job.prompt, self._exchanges(job.task, job.schema))

    def _exchanges(self, task: str, schema: Schema) -> List[str]:
        key = (task, tuple(t.class_name for t in schema))
        if key not in self._exchange_cache:
            rendered = (render_exchange(e, task, schema, self.settings.quoting)
                        for e in self.examples)
            self._exchange_cache[key] = [r for r in rendered if r is not None]
        return self._exchange_cache[key]

    def _longest_prompt(self, shard: Doc, i_shard: int, i_doc: int, n_shards: int) -> str:
        """The longest prompt a shard can get: what the shard mapper must fit.

        EAE prompts are estimated with every event type confirmed once (the
        real triggers are only known for the fused doc).
        """
        text = shard[:].text
        triggers = [Trigger(e.class_name, e.class_name) for e in self.schema.events if e.roles]
        prompts = [insert_exchanges(wrap_query(render_query(
            task, self.schema, text, triggers=triggers, quoting=self.settings.quoting)),
            self._exchanges(task, self.schema)) for task in self.tasks]
        return max(prompts, key=len)

    # -- serialization -------------------------------------------------------

    def _cfg(self) -> Dict[str, Any]:
        return {"schema": schema_to_dict(self.schema), "tasks": self.tasks,
                "settings": asdict(self.settings),
                "examples": [asdict(e) for e in self.examples]}

    def _load_cfg(self, cfg: Dict[str, Any]) -> None:
        examples = [FewShotExample(e["text"], tuple(map(tuple, e["entities"])),
                                   tuple(map(tuple, e["relations"])),
                                   tuple(ExampleEvent(v["class_name"], v["trigger"],
                                                      tuple(map(tuple, v["arguments"])))
                                         for v in e["events"]))
                    for e in cfg["examples"]]
        self._configure(schema_from_dict(cfg["schema"]), list(cfg["tasks"]),
                        TaskSettings(**cfg["settings"]), examples)

    def to_bytes(self, *, exclude: Tuple[str, ...] = tuple()) -> bytes:
        """Serialize the schema, subtasks, settings and examples."""
        return util.to_bytes({"cfg": lambda: srsly.json_dumps(self._cfg())}, exclude)

    def from_bytes(self, bytes_data: bytes, *,
                   exclude: Tuple[str, ...] = tuple()) -> "KnowCoderTask":
        """Load what ``to_bytes`` wrote."""
        util.from_bytes(bytes_data, {"cfg": lambda b: self._load_cfg(srsly.json_loads(b))},
                        exclude)
        return self

    def to_disk(self, path: Path, *, exclude: Tuple[str, ...] = tuple()) -> None:
        """Save the schema, subtasks, settings and examples to a directory."""
        util.to_disk(path, {"cfg": lambda p: srsly.write_json(p, self._cfg())}, exclude)

    def from_disk(self, path: Path, *, exclude: Tuple[str, ...] = tuple()) -> "KnowCoderTask":
        """Load what ``to_disk`` wrote."""
        util.from_disk(path, {"cfg": lambda p: self._load_cfg(srsly.read_json(p))}, exclude)
        return self


def merge_diagnostics(previous: Dict[str, Any], new: Dict[str, Any],
                      tasks: Sequence[str]) -> Dict[str, Any]:
    """Keep an earlier component's diagnostics for the subtasks this one did not run.

    With ner/re/ed in one llm component and eae in the next, the doc's
    diagnostics then cover every subtask, as with the knowcoder component.
    """
    merged = dict(new)
    for key in ("problems", "completions"):
        kept = {t: v for t, v in (previous.get(key) or {}).items() if t not in tasks}
        merged[key] = {**kept, **(new.get(key) or {})}
    kept_incomplete = [t for t in previous.get("incomplete") or [] if t not in tasks]
    merged["incomplete"] = kept_incomplete + list(new.get("incomplete") or [])
    for key in ("dropped_classes", "dropped_items", "dropped_mentions"):
        merged[key] = previous.get(key, 0) + new.get(key, 0)
    return merged


def check_tasks(tasks: Optional[Sequence[str]], schema: Schema) -> List[str]:
    """The subtasks to run, in KnowCoder order; by default ner/re/ed as the schema allows.

    The same rules as the knowcoder component (``tasks.resolve_tasks``), plus one
    of spacy-llm's single round of prompts: EAE needs ED's triggers, so it runs
    in a component of its own.

    RAISES: ValueError for an unknown task (E001), a task without schema types
        (E005), or "ed" together with "eae" (E350).
    """
    resolved = resolve_tasks(tasks, schema, default=[t for t in TASKS if t != "eae"])
    if "eae" in resolved and len(resolved) > 1:
        raise ValueError(Errors.E350.format(tasks=list(tasks or resolved)))
    return resolved


def resolve_schema(schema: Optional[Dict[str, Any]], schema_file: Optional[str],
                   labels: Dict[str, str]) -> Schema:
    """The schema from a dict or a file (E014/E015 as in the component), relabelled."""
    check_schema_source(schema, schema_file)
    resolved = schema_from_dict(schema) if schema else load_schema(schema_file)
    return resolved.relabel(dict(labels)) if labels else resolved


@registry.llm_tasks(TASK_NAME)
def make_knowcoder_task(
    schema: Optional[Dict[str, Any]] = None,
    schema_file: Optional[str] = None,
    tasks: Optional[List[str]] = None,
    labels: Optional[Dict[str, str]] = None,
    examples: Optional[Callable[[], Iterable[Dict[str, Any]]]] = None,
    quoting: str = "python",
    alignment_mode: str = "expand",
    annotate_ents: bool = True,
    overwrite_ents: bool = False,
    spans_key: str = "knowcoder",
    store_completions: bool = False,
    shard_mapper: Optional[ShardMapper] = None,
    scorer: Optional[ScorerType] = None,
) -> KnowCoderTask:
    """Build the KnowCoder task for spacy-llm's ``llm`` component.

    schema (Optional[Dict[str, Any]]): The schema in dict form (or ``schema_file``).
    schema_file (Optional[str]): A .json or .py schema file.
    tasks (Optional[List[str]]): "ner", "re", "ed" (any of them), or ["eae"] alone;
        None runs ner/re/ed as far as the schema has types for them.
    labels (Optional[Dict[str, str]]): Class name -> spaCy label overrides.
    examples (Optional[Callable]): Few-shot records, e.g. from ``spacy.FewShotReader.v1``.
    quoting, alignment_mode, annotate_ents, overwrite_ents, spans_key,
        store_completions: As for the knowcoder component (see ``TaskSettings``).
    shard_mapper (Optional[ShardMapper]): Default ``spacy.ShardMapper.v1``.
    scorer (Optional[Callable]): Default ``spacy_knowcoder.scorer.v1``.
    RETURNS (KnowCoderTask): The task.
    """
    resolved = resolve_schema(schema, schema_file, labels or {})
    settings = TaskSettings(quoting=quoting, alignment_mode=alignment_mode,
                            annotate_ents=annotate_ents, overwrite_ents=overwrite_ents,
                            spans_key=spans_key, store_completions=store_completions)
    loaded = examples_from_records(examples() if examples else [], resolved)
    return KnowCoderTask(resolved, tasks if tasks is None else list(tasks), settings=settings,
                         examples=loaded, shard_mapper=shard_mapper, scorer=scorer)
