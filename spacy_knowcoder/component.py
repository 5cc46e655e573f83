"""The ``knowcoder`` pipeline component.

It renders KnowCoder prompts for each task, asks a causal LM to complete them,
parses the code it writes (``ast``, whitelisted classes, nothing executed) and
writes the results where spaCy users expect them:

- entities: ``doc.spans[spans_key]`` (all predictions, overlaps allowed) and, with
  ``annotate_ents``, ``doc.ents``. Existing entities are kept unless
  ``overwrite_ents`` is set; then the ones a prediction displaces are moved to
  ``doc.spans[spans_key + "_displaced"]``, so nothing disappears silently.
- relations: ``doc._.relations``; events: ``doc._.events`` (see ``extensions``).
- what was dropped and why: ``doc._.knowcoder_diagnostics``.

Example:
    >>> nlp = spacy.blank("en")  # doctest: +SKIP
    >>> nlp.add_pipe("knowcoder", config={"model": "models/smollm2-135m",
    ...     "schema": {"entities": {"person": "A human being."}}})  # doctest: +SKIP
    >>> nlp.add_pipe("knowcoder", config={"schema": {"entities": {"person": "A human."}},
    ...     "model": {"@llm_models": "spacy_knowcoder.HFModel.v1", "name": "knowcoder-smol",
    ...               "max_new_tokens": 96}})  # doctest: +SKIP
"""
from itertools import islice
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Union)

import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path, from_bytes, from_disk, to_bytes, to_disk

from .errors import Errors, Warnings, check_choice, warn
from .extensions import register_extensions
from .class_scoring import TYPING_MODES, ClassScoring, TypingPlan, check_threshold
from .class_scoring import new_typing_counts
from .extractor import CandidateSelector, DocState, Extractor, PromptJob, check_output_settings
from .extractor import warn_dropped, whole_schema
from .fileio import write_bytes, write_json
from .generation.base import GenerationSettings, Generator, generate_for_jobs
from .generation.blocks import HF_MODEL, KnowCoderModel, as_model_block
from .model_files import copy_model_files, packaged_model_path
from .parsing import ParseResult
from .prompting import Trigger, render_schema_prefix
from .tasks import resolve_tasks
from .schema.build import schema_from_dict, schema_to_dict
from .schema.io import check_schema_source, load_schema
from .schema.language_labels import labels_for_language
from .schema.library import SchemaLibrary
from .schema.ranker import ClassRanker
from .schema.selection import lexical_selection, rankers_from_bytes, rankers_to_bytes
from .schema.types import Schema
from .scoring import score_knowcoder
from .windows import split_into_windows

DEFAULT_CONFIG: Dict[str, Any] = {
    # A block of spacy-llm's llm_models registry (spacy_knowcoder.HFModel.v1 or
    # .OpenAIModel.v1) with the generation settings; a plain string is the
    # shorthand for the block with defaults. name null: the shipped default.
    "model": {"@llm_models": HF_MODEL, "name": None},
    "schema": None,
    "schema_file": None,
    "library": None,
    "selection": None,
    "tasks": None,
    "labels": {},
    "typing": "score",
    "calibrate": True,
    "threshold": 0.0,
    "quoting": "python",
    "annotate_ents": True,
    "overwrite_ents": False,
    "spans_key": "knowcoder",
    "alignment_mode": "expand",
    "store_completions": False,
    "package_model": False,
    "scorer": {"@scorers": "spacy_knowcoder.scorer.v1"},
}
#: The component's own files (and keys of its bytes): data only. Settings live in
#: the pipeline's config.cfg, so spacy.load overrides apply (as for spaCy's SpanRuler).
DATA_PARTS = ("schema", "library", "rankers")
#: The single state file of versions before DATA_PARTS: the schema plus a copy of
#: the settings, which are ignored now (W003 where they differ from the config).
LEGACY_STATE = "cfg"
# Tokens kept free besides the text, the schema prefix and the answer: the
# system text and Input:/Output: frame (about 50 tokens) plus a margin.
FRAME_TOKENS = 96


@Language.factory(
    "knowcoder",
    assigns=["doc.ents", "doc.spans", "doc._.relations", "doc._.events",
             "doc._.knowcoder_diagnostics"],
    default_config=DEFAULT_CONFIG,
    default_score_weights={"ents_f": 0.25, "rel_f": 0.25, "event_trigger_f": 0.25,
                           "event_argument_f": 0.25, "ents_p": 0.0, "ents_r": 0.0,
                           "ents_per_type": None},
)
def make_knowcoder(
    nlp: Language,
    name: str,
    model: Union[str, KnowCoderModel, None],
    schema: Optional[Dict[str, Any]],
    schema_file: Optional[str],
    library: Optional[str],
    selection: Optional[Callable],
    tasks: Optional[List[str]],
    labels: Dict[str, Union[str, Dict[str, str]]],
    typing: str,
    calibrate: bool,
    threshold: float,
    quoting: str,
    annotate_ents: bool,
    overwrite_ents: bool,
    spans_key: str,
    alignment_mode: str,
    store_completions: bool,
    package_model: bool,
    scorer: Optional[Callable],
    max_new_tokens: Optional[int] = None,
    batch_size: Optional[int] = None,
    device: Optional[str] = None,
    dtype: Optional[str] = None,
    constrained: Optional[bool] = None,
    stop_repeats: Optional[bool] = None,
    prefix_cache: Optional[bool] = None,
) -> "KnowCoder":
    """Build the ``knowcoder`` component (see ``KnowCoder`` for the settings).

    The generation settings after ``scorer`` are deprecated flat keys of configs
    written before the model became a block (pipelines saved by earlier
    versions): given, they are moved into the model block with warning W004.
    """
    legacy = {"max_new_tokens": max_new_tokens, "batch_size": batch_size, "device": device,
              "dtype": dtype, "constrained": constrained, "stop_repeats": stop_repeats,
              "prefix_cache": prefix_cache}
    return KnowCoder(nlp.vocab, name=name, model=as_model_block(model, legacy), schema=schema,
                     schema_file=schema_file, library=library, selection=selection,
                     tasks=tasks, labels=labels, typing=typing,
                     calibrate=calibrate, threshold=threshold, quoting=quoting,
                     annotate_ents=annotate_ents,
                     overwrite_ents=overwrite_ents, spans_key=spans_key,
                     alignment_mode=alignment_mode, store_completions=store_completions,
                     package_model=package_model, scorer=scorer)


class KnowCoder(Pipe):
    """Extract entities, relations and events with a KnowCoder-style code LLM."""

    def __init__(
        self,
        vocab: Any,
        name: str = "knowcoder",
        *,
        model: Union[str, KnowCoderModel, None] = None,
        schema: Optional[Dict[str, Any]] = None,
        schema_file: Optional[str] = None,
        library: Optional[str] = None,
        selection: Optional[Callable] = None,
        tasks: Optional[Sequence[str]] = None,
        labels: Optional[Mapping[str, Any]] = None,
        typing: str = "score",
        calibrate: bool = True,
        threshold: float = 0.0,
        quoting: str = "python",
        annotate_ents: bool = True,
        overwrite_ents: bool = False,
        spans_key: str = "knowcoder",
        alignment_mode: str = "expand",
        store_completions: bool = False,
        package_model: bool = False,
        scorer: Optional[Callable] = score_knowcoder,
    ) -> None:
        """Initialize the component.

        model (Union[str, KnowCoderModel, None]): The model block
            (``spacy_knowcoder.HFModel.v1`` or ``spacy_knowcoder.OpenAIModel.v1``,
            see ``generation.blocks``), which holds the generation settings
            (max_new_tokens, batch_size, device, dtype, constrained, ...); or
            the shorthand string for a block with defaults: a shipped model's
            name ("knowcoder-smol"), a local HF directory, a hub id, a ``.gguf``
            file or the URL of an OpenAI-compatible completions server
            ("http://host:8000/v1"). None: the shipped default
            (``spacy_knowcoder.models.DEFAULT_MODEL``).
        schema (dict): The schema in dict form (or give ``schema_file``).
        schema_file (str): A ``.json`` or ``.py`` schema file.
        library (str): A schema library JSON (``knowcoder schema build``), instead
            of ``schema``/``schema_file``; each text gets selected classes.
        selection (Callable): A selection policy (``spacy_knowcoder.lexical_selection.v1``,
            ``spacy_knowcoder.split_selection.v1``); default with a library: lexical.
        tasks (List[str]): Any of "ner", "re", "ed", "eae", run in that order;
            None runs every task the schema has types for.
        labels (Mapping[str, Any]): Class name -> spaCy label overrides, for every
            language, or per language code (``{"de": {"Location": "Ort"}, "*": {...}}``;
            the vocab's language picks one; see ``schema.language_labels``).
        typing (str): How items get their class: "score" (the model scores every
            candidate class for each mention it wrote and the best wins; items get
            a ``score``; see ``class_scoring``; the default, as it raised held-out
            NER F1) or "generate" (the class as the model wrote it).
        calibrate (bool): With typing "score", subtract each class's score under a
            content-free sentence (contextual calibration).
        threshold (float): With typing "score", drop items whose score is below
            it (0 to 1; 0 keeps all). Counted in ``doc._.knowcoder_diagnostics``.
        quoting (str): How the text is quoted in the prompt ("python" or "reference").
        annotate_ents (bool): Write entities to ``doc.ents`` (they always go to
            ``doc.spans[spans_key]``).
        overwrite_ents (bool): Let predictions replace overlapping existing entities
            (the replaced ones are kept in ``doc.spans[spans_key + "_displaced"]``).
        spans_key (str): The span group for all predicted entities.
        alignment_mode (str): "strict", "expand" or "contract" (see ``align``).
        store_completions (bool): Keep the raw model output in the diagnostics.
        package_model (bool): ``to_disk`` copies the model files into the pipeline
            (``<pipe>/model``), so ``spacy package`` ships them; ``from_disk``
            uses that copy unless the config names another model (see
            docs/packaging.md).
        scorer (Callable): The scoring method.
        """
        register_extensions()
        self.vocab = vocab
        self.name = name
        self.scorer = scorer
        self.model_block = as_model_block(model)
        self._model_setting = self.model_block.name  # the model may be a packaged copy later
        self.cfg: Dict[str, Any] = {
            "model": self.model_block.name, "schema_file": schema_file, "library": library,
            "labels": {key: dict(value) if isinstance(value, Mapping) else value
                       for key, value in (labels or {}).items()},
            "quoting": quoting, "annotate_ents": annotate_ents,
            "overwrite_ents": overwrite_ents, "spans_key": spans_key,
            "alignment_mode": alignment_mode, "store_completions": store_completions,
            "package_model": package_model, "typing": typing, "calibrate": calibrate,
            "threshold": threshold,
        }
        self._labels = labels_for_language(self.cfg["labels"], vocab.lang)
        check_output_settings(quoting, alignment_mode)
        check_choice("typing", typing, TYPING_MODES)
        self.class_scoring = (ClassScoring(calibrate=bool(calibrate), threshold=threshold)
                              if typing == "score" else None)
        check_threshold(threshold)
        self._schema_error: Optional[Exception] = None
        self.selection = selection
        self._library: Optional[SchemaLibrary] = None
        self._library_labels: Dict[str, str] = {}  # the library data's own labels
        self._tasks_setting = tasks
        self._generator: Optional[Generator] = None
        self._budget: Optional[int] = None
        self._extractor: Optional[Extractor] = None
        self.schema: Optional[Schema] = None
        self._unlabelled: Optional[Schema] = None  # the schema before ``labels``
        self._resolve_schema(schema, schema_file)
        self.tasks = resolve_tasks(tasks, self.schema)
        self._rankers: Optional[Dict[str, ClassRanker]] = None
        self._rankers_error: Optional[Exception] = None
        self._load_rankers()
        if not package_model:
            # Fails early on a path that does not exist (a packaged copy comes in
            # from_disk; a shipped model is checked when it loads).
            self.model_block.check()

    # -- configuration -------------------------------------------------------

    def _resolve_schema(self, schema: Optional[Dict[str, Any]],
                        schema_file: Optional[str]) -> None:
        if self.cfg["library"]:
            self._resolve_library(schema, schema_file)
            return
        check_schema_source(schema, schema_file)
        if schema:
            self._use_schema(schema_from_dict(schema))
            return
        try:
            self._use_schema(load_schema(schema_file))
        except FileNotFoundError as err:
            # A pipeline loaded from disk brings its own schema (from_disk).
            self._schema_error = err

    def _resolve_library(self, schema: Any, schema_file: Optional[str]) -> None:
        if schema or schema_file:
            raise ValueError(Errors.E207.format(other="schema" if schema else "schema_file"))
        try:
            self._use_library(SchemaLibrary.from_disk(self.cfg["library"]))
        except FileNotFoundError as err:
            self._schema_error = err  # a pipeline loaded from disk brings its library

    def _use_schema(self, schema: Schema) -> None:
        """Use a schema as given (the ``labels`` setting is applied here)."""
        labels = self._labels
        self._library = None
        self._unlabelled = schema
        self._schema_changed(schema.relabel(labels) if labels else schema)

    def _use_library(self, library: SchemaLibrary) -> None:
        """Use a library; the ``labels`` setting applies on top of the labels its
        data brought, which are what the component saves (settings stay in config.cfg)."""
        self._library_labels = library.label_overrides
        if self._labels:
            library.set_labels(self._labels)
        self._library = library
        self._unlabelled = None
        self._schema_changed(library.to_schema())

    def _schema_changed(self, schema: Schema) -> None:
        self.schema = schema
        self._schema_error = None
        self._budget = None
        self._extractor = None
        self.tasks = resolve_tasks(self._tasks_setting, self.schema)

    def _load_rankers(self) -> None:
        """Read the rankers a selection policy names (``learned_selection``), if any."""
        if not getattr(self.selection, "uses_rankers", False):
            return
        try:
            self._rankers = self.selection.load_rankers()  # type: ignore[union-attr]
        except ValueError as err:
            self._rankers_error = err  # a pipeline loaded from disk brings its rankers

    def _use_rankers(self, rankers: Dict[str, ClassRanker]) -> None:
        if getattr(self.selection, "uses_rankers", False):  # else: saved, now unused
            self._rankers = rankers
            self._rankers_error = None
            self._extractor = None

    def _selector(self) -> CandidateSelector:
        if self._library is None and self.selection is None:
            return whole_schema
        policy = self.selection or lexical_selection()
        if self._rankers_error is not None and self._rankers is None:
            raise self._rankers_error
        rankers = () if self._rankers is None else (self._rankers,)
        if self._library is not None:
            return policy(self._library, *rankers)
        return policy.bind_schema(self._require_schema(), *rankers)

    @property
    def library(self) -> Optional[SchemaLibrary]:
        """The schema library in use (None with a plain schema)."""
        return self._library

    @property
    def labels(self) -> List[str]:
        """The spaCy labels of all schema types ([] while a schema file is pending)."""
        return [t.label for t in self.schema] if self.schema is not None else []

    def _require_schema(self) -> Schema:
        if self.schema is None:
            raise self._schema_error or ValueError(Errors.E014)
        return self.schema

    # -- model ---------------------------------------------------------------

    @property
    def generation(self) -> GenerationSettings:
        """The generation settings of the model block."""
        return self.model_block.settings

    @property
    def generator(self) -> Generator:
        """The text generator, loaded on first use."""
        if self._generator is None:
            self._generator = self._load_generator()
        return self._generator

    def _load_generator(self) -> Generator:
        """Load the model block's model; name None means the shipped default
        (``models.DEFAULT_MODEL``).

        A shipped model's base is prepared once in the user cache and its LoRA
        adapter merged in memory (``generation.shipped``). The setting stays as
        given (None or the name), so a saved pipeline never refers to a cache path.
        """
        return self.model_block.load()

    @generator.setter
    def generator(self, generator: Generator) -> None:
        self._generator = generator
        self._budget = None

    def initialize(self, get_examples: Optional[Callable[[], Iterable[Example]]] = None, *,
                   nlp: Optional[Language] = None) -> None:
        """Load the model (otherwise it loads on the first doc)."""
        self._require_schema()
        self.generator  # noqa: B018 - loading is the point

    # -- processing ----------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        """Extract from one doc."""
        return self.process_docs([doc])[0]

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Extract from a stream of docs, ``generation.batch_size`` prompts at a time."""
        stream = iter(stream)
        while True:
            docs = list(islice(stream, max(batch_size, self.generation.batch_size)))
            if not docs:
                return
            yield from self.process_docs(docs)

    def process_docs(self, docs: List[Doc]) -> List[Doc]:
        """Run every task on a list of docs and write the results on them."""
        extractor = self.extractor
        states = [extractor.start(doc, self._windows(doc)) for doc in docs]
        if self.class_scoring is not None:
            for state in states:
                state.diagnostics["typing"] = new_typing_counts()
        for task in self.tasks:
            jobs = extractor.jobs(task, states)
            completions = generate_for_jobs(self.generator, jobs)
            results = [extractor.parse(job, c) for job, c in zip(jobs, completions)]
            if self.class_scoring is not None:
                self._retype(jobs, results, states)
            for job, completion, result in zip(jobs, completions, results):
                extractor.place(job, completion, result, states[job.doc_index])
        for doc, state in zip(docs, states):
            extractor.finish(doc, state)
        warn_dropped(docs)
        return docs

    def _retype(self, jobs: List[PromptJob], results: List[ParseResult],
                states: List[DocState]) -> None:
        """Choose each item's class by the model's scores (``typing = "score"``).

        The prompts of one window (several when a selection policy split the
        candidates, e.g. one class per prompt) are typed together against one
        prompt with all their classes, when it fits the model's context;
        otherwise each prompt on its own. All windows of the batch are scored
        in one call, which the transformers backend packs into few passes. A
        model without token scores (a served model) keeps the generated
        classes, counted as ``no_model_scores`` in the diagnostics: with
        ``score`` as the default, a warning would fire for every such pipeline.
        """
        assert self.class_scoring is not None
        generator, extractor = self.generator, self.extractor
        windows: Dict[int, List[int]] = {}
        plans: List[TypingPlan] = []
        for i, job in enumerate(jobs):
            windows.setdefault(id(job.extraction), []).append(i)
        for indices in windows.values():
            union = extractor.typing_job([jobs[i] for i in indices])
            if len(indices) == 1 or self._fits(union.prompt):
                groups = [(union, indices)]
            else:
                groups = [(jobs[i], [i]) for i in indices]
            for job, group in groups:
                plan = self.class_scoring.plan(
                    generator, job.task, job.prompt, list(job.classes),
                    [results[i] for i in group],
                    lambda job=job: extractor.content_free_prompt(job),
                    job.extraction.locates, states[job.doc_index].diagnostics["typing"])
                if plan is not None:
                    plans.append(plan)
        self.class_scoring.retype_many(generator, plans)

    def _fits(self, prompt: str) -> bool:
        """Whether a prompt plus a scored item fits the model's context."""
        counter = getattr(self.generator, "count_tokens", None)
        if counter is None:
            return True
        return counter(prompt) + FRAME_TOKENS < self.generator.max_context

    @property
    def extractor(self) -> Extractor:
        """Prompt planning, parsing and writing for the current schema and settings."""
        if self._extractor is None:
            cfg = self.cfg
            self._extractor = Extractor(
                self._require_schema(), self.tasks, quoting=cfg["quoting"],
                alignment_mode=cfg["alignment_mode"], annotate_ents=cfg["annotate_ents"],
                overwrite_ents=cfg["overwrite_ents"], spans_key=cfg["spans_key"],
                store_completions=cfg["store_completions"], select=self._selector())
        return self._extractor

    def _windows(self, doc: Doc) -> List[Span]:
        if not isinstance(doc, Doc):
            raise TypeError(Errors.E020.format(type=type(doc).__name__))
        if not doc.text.strip():
            return []
        budget = self._text_budget()
        windows = split_into_windows(doc, budget, self.generator.count_tokens)
        if len(windows) > 1:
            warn(Warnings.W002.format(n_tokens=len(doc), budget=budget,
                                      n_windows=len(windows)))
        return windows

    def _text_budget(self) -> int:
        if self._budget is None:
            schema = self._require_schema()
            prefix = max(self.generator.count_tokens(self._prefix_for_budget(t, schema))
                         for t in self.tasks)
            room = self.generator.max_context - self.generation.max_new_tokens
            self._budget = max(32, room - prefix - FRAME_TOKENS)
        return self._budget

    def _prefix_for_budget(self, task: str, schema: Schema) -> str:
        largest = getattr(self.extractor.select, "largest_prompt_schema", None)
        schema = largest(task) if largest is not None else schema
        triggers = [Trigger(e.class_name, e.class_name) for e in schema.events]
        return render_schema_prefix(task, schema, triggers=triggers)

    # -- scoring and serialization -------------------------------------------

    def score(self, examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
        """Score entities, relations and events (see ``scoring``)."""
        return self.scorer(examples, **kwargs) if self.scorer else {}

    def _dumpers(self) -> Dict[str, Callable[[], bytes]]:
        """The data parts (``DATA_PARTS``) this component has, each as bytes.

        ``to_bytes`` and ``to_disk`` write the same parts (a file per part).
        """
        dumpers: Dict[str, Callable[[], bytes]] = {}
        library, rankers = self._library, self._rankers
        if library is not None:
            dumpers["library"] = lambda: _json_bytes(
                dict(library.to_dict(), labels=self._library_labels))
        else:
            self._require_schema()
            dumpers["schema"] = lambda: _json_bytes(schema_to_dict(self._unlabelled))
        if rankers:
            dumpers["rankers"] = lambda: rankers_to_bytes(rankers)
        return dumpers

    def _loaders(self) -> Dict[str, Callable[[bytes], None]]:
        """Readers of the data parts (and of the old single state file), in load order."""
        where = f"{self.name}/"
        return {
            LEGACY_STATE: lambda b: self._load_legacy_state(b, where + LEGACY_STATE),
            "schema": lambda b: self._use_schema(schema_from_dict(srsly.json_loads(b))),
            "library": lambda b: self._use_library(
                SchemaLibrary.from_dict(srsly.json_loads(b), where=where + "library")),
            "rankers": lambda b: self._use_rankers(rankers_from_bytes(b, where + "rankers")),
        }

    def _load_legacy_state(self, data: bytes, where: str) -> None:
        """The schema of a state file saved before ``DATA_PARTS``; not its settings."""
        state = srsly.json_loads(data)
        stale = sorted(key for key, value in (state.get("cfg") or {}).items()
                       if key in self.cfg and self.cfg[key] != value)
        if stale:
            warn(Warnings.W003.format(where=where, settings=", ".join(stale)), FutureWarning)
        self._use_schema(schema_from_dict(state["schema"]))

    def to_disk(self, path: Any, *, exclude: Iterable[str] = tuple()) -> None:
        """Save the data: schema or schema library, and learned rankers; with
        ``package_model``, a copy of the model in ``path / "model"``. The
        settings are in the pipeline's config.cfg."""
        path = ensure_path(path)
        serializers: Dict[str, Callable[[Any], None]] = {
            name: (lambda p, dump=dump: write_bytes(p, dump()))
            for name, dump in self._dumpers().items()}
        model = self.cfg["model"]
        if self.cfg["package_model"] and model is not None:
            serializers["model"] = lambda p: copy_model_files(model, p)
            serializers["model.json"] = lambda p: write_json(p, {"model": self._model_setting})
        to_disk(path, serializers, exclude)
        for name in (*DATA_PARTS, LEGACY_STATE):  # left by an earlier save to this path
            if name not in serializers and name not in exclude:
                (path / name).unlink(missing_ok=True)

    def from_disk(self, path: Any, *, exclude: Iterable[str] = tuple()) -> "KnowCoder":
        """Load the data written by ``to_disk`` (and use a packaged model)."""
        readers: Dict[str, Callable[[Any], None]] = {
            name: (lambda p, load=load: p.is_file() and load(p.read_bytes()))
            for name, load in self._loaders().items()}
        readers["model"] = self._use_packaged_model
        from_disk(ensure_path(path), readers, exclude)
        return self

    def _use_packaged_model(self, folder: Any) -> None:
        """Point ``cfg["model"]`` at a packaged copy, unless the config names another
        model than the one that was copied (a ``spacy.load`` override wins)."""
        packaged = packaged_model_path(folder)
        source = folder.with_name("model.json")
        if packaged is None or (source.is_file()
                                and srsly.read_json(source)["model"] != self._model_setting):
            return
        self.model_block = self.model_block.with_name(packaged)
        self.cfg["model"] = packaged
        self._generator = None

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        """The data parts of ``to_disk`` (not a packaged model's files)."""
        return to_bytes(self._dumpers(), exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "KnowCoder":
        """Load the data written by ``to_bytes``."""
        from_bytes(bytes_data, self._loaders(), exclude)
        return self


def _json_bytes(data: Any) -> bytes:
    return srsly.json_dumps(data, indent=0).encode("utf8")


