"""Type extracted items by scoring every candidate class: the ``typing = "score"`` stage.

Generation picks an item's class token by token, and small models mostly pick
the most frequent class. This stage keeps the mentions the model found and
asks the same model to compare the listed classes instead: for each item it
scores log p(``\\tClass(mention...)`` | prompt + ``results = [\\n``) for every
candidate class of the prompt (entities, relations over the same head and
tail, events over the same trigger) and keeps the best.

Scores are calibrated by default (contextual calibration, Zhao et al. 2021,
"Calibrate Before Use", arXiv 2102.09690): each class's score under a
content-free sentence (``"N/A"``, the class called with ``"N/A"``) is
subtracted, which removes much of the model's prior toward one class. That
content-free score depends only on the prompt's classes, so it is computed
once per candidate schema and cached. A softmax over the candidates'
calibrated scores gives the item's ``score`` (its confidence); items below
``threshold`` are dropped and counted.

Items the stage leaves as generated, and says so in the diagnostics
(``doc._.knowcoder_diagnostics["typing"]``): a prompt with one candidate class
(nothing to compare), a mention that is not in the text (alignment drops it),
EAE items (the event type is given), and every item when the model gives no
token scores (a served or spacy-llm model).

Example:
    >>> stage = ClassScoring(calibrate=True, threshold=0.0)  # doctest: +SKIP
    >>> result = extractor.parse(job, completion)  # doctest: +SKIP
    >>> stage.retype(generator, "ner", job.prompt, list(job.classes), [result],
    ...              lambda: cf_prompt, job.extraction.locates, counts)  # doctest: +SKIP
"""
import math
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import Errors
from .parsing import EntityItem, Item, ParseResult, RelationItem
from .answer import ITEM_INDENT, RESULTS_OPEN, entity_item, relation_item, trigger_item

TYPING_MODES = ("generate", "score")
#: The content-free input of contextual calibration (Zhao et al. 2021 use "N/A").
CONTENT_FREE_TEXT = "N/A"
#: Tasks whose items carry a class the stage can choose.
SCORED_TASKS = ("ner", "re", "ed")
#: Diagnostics counters of the stage (``doc._.knowcoder_diagnostics["typing"]``).
COUNTERS = ("scored", "changed", "below_threshold", "merged", "one_class", "not_in_text",
            "no_model_scores")


def new_typing_counts() -> Dict[str, int]:
    """Zeroed counters of the stage for one doc."""
    return dict.fromkeys(COUNTERS, 0)


def check_threshold(value: Any) -> float:
    """``value`` as a float in [0, 1], else E023."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(Errors.E023.format(value=value))
    return float(value)


def render_as(item: Item, class_name: str) -> str:
    """The item written as an instance of ``class_name`` (answer format, no indent).

    Example:
        >>> render_as(EntityItem("Person", "Ann"), "City")
        'City("Ann")'
    """
    if isinstance(item, EntityItem):
        return entity_item(class_name, item.text)
    if isinstance(item, RelationItem):
        return relation_item(class_name, item.head, item.tail)
    return trigger_item(class_name, item.trigger)


def content_free_item(task: str, class_name: str) -> str:
    """A class called with the content-free text, as the calibration scores it.

    Example:
        >>> content_free_item("re", "BornIn")
        'BornIn(Entity("N/A"), Entity("N/A"))'
    """
    if task == "re":
        return relation_item(class_name, CONTENT_FREE_TEXT, CONTENT_FREE_TEXT)
    return entity_item(class_name, CONTENT_FREE_TEXT)


def softmax(values: Sequence[float]) -> List[float]:
    """Normalised exponentials (numerically stable).

    Example:
        >>> [round(p, 3) for p in softmax([0.0, 0.0])]
        [0.5, 0.5]
    """
    top = max(values)
    weights = [math.exp(v - top) for v in values]
    total = sum(weights)
    return [w / total for w in weights]


@dataclass
class TypingPlan:
    """The items of one window to be typed against one prompt (``ClassScoring.plan``).

    task (str): The prompt's task.
    prompt (str): The prompt the items are scored under.
    classes (List[str]): Its candidate class names, in prompt order.
    results (Sequence[ParseResult]): The parsed answers whose items get replaced.
    items (List[Item]): The distinct items to score (mentions in the text).
    content_free_prompt (Callable[[], str]): ``prompt`` with the content-free sentence.
    counts (Dict[str, int]): The doc's typing counters (``COUNTERS``).
    """

    task: str
    prompt: str
    classes: List[str]
    results: Sequence[ParseResult]
    items: List[Item]
    content_free_prompt: Callable[[], str]
    counts: Dict[str, int]

    def continuations(self) -> List[str]:
        """Every item written as every class: item-major, in class order."""
        return [ITEM_INDENT + render_as(item, name) for item in self.items
                for name in self.classes]


class ClassScoring:
    """Re-type parsed items by the model's scores of every candidate class.

    calibrate (bool): Subtract each class's content-free score (recommended).
    threshold (float): Drop scored items whose confidence is below it (0 keeps all).
    cache_size (int): Content-free score tables kept (one per candidate schema).
    """

    def __init__(self, calibrate: bool = True, threshold: float = 0.0,
                 cache_size: int = 64) -> None:
        self.calibrate = calibrate
        self.threshold = check_threshold(threshold)
        self.cache_size = max(1, cache_size)
        self._content_free: "OrderedDict[tuple, List[float]]" = OrderedDict()

    def retype(self, generator: Any, task: str, prompt: str, classes: Sequence[str],
               results: Sequence[ParseResult], content_free_prompt: Callable[[], str],
               in_text: Callable[[Item], bool], counts: Dict[str, int]) -> None:
        """Choose each item's class among ``classes`` by score; set ``item.score``.

        ``results`` are the answers for one window of text: one prompt's, or
        those of several prompts that split the candidates (``split_selection``),
        typed together against ``prompt``, which shows all their classes. A
        mention two of them found becomes one item. To type many windows in
        few model passes, ``plan`` each and call ``retype_many`` once.

        generator (Generator): The model; it needs ``score_continuations``.
        task (str): The prompts' task.
        prompt (str): The prompt the items are scored under.
        classes (Sequence[str]): Its candidate class names, in prompt order.
        results (Sequence[ParseResult]): The parsed answers; items replaced in place.
        content_free_prompt (Callable[[], str]): ``prompt`` with the content-free
            sentence (asked for only when calibrating, once per schema).
        in_text (Callable[[Item], bool]): Whether an item's mentions occur in the text.
        counts (Dict[str, int]): The doc's typing counters (``COUNTERS``), updated.
        """
        plan = self.plan(generator, task, prompt, classes, results, content_free_prompt,
                         in_text, counts)
        self.retype_many(generator, [plan] if plan is not None else [])

    def plan(self, generator: Any, task: str, prompt: str, classes: Sequence[str],
             results: Sequence[ParseResult], content_free_prompt: Callable[[], str],
             in_text: Callable[[Item], bool], counts: Dict[str, int]
             ) -> Optional[TypingPlan]:
        """What ``retype`` would score for one window, or None when nothing is to score.

        Items left as generated are counted here (``one_class``, ``not_in_text``,
        ``no_model_scores``). Arguments as for ``retype``.

        Example:
            >>> plan = stage.plan(gen, "ner", prompt, classes, [result], cf, locates, counts)  # doctest: +SKIP
            >>> stage.retype_many(gen, [plan])  # doctest: +SKIP
        """
        items = [item for result in results for item in result.items]
        if task not in SCORED_TASKS or not items:
            return None
        if getattr(generator, "score_continuations", None) is None:
            counts["no_model_scores"] += len(items)
            return None
        if len(classes) < 2:
            counts["one_class"] += len(items)
            return None
        placed = [item for item in items if in_text(item)]
        counts["not_in_text"] += len(items) - len(placed)
        unique = list({render_as(item, ""): item for item in placed}.values())
        if not unique:
            return None
        return TypingPlan(task, prompt, list(classes), results, unique, content_free_prompt,
                          counts)

    def retype_many(self, generator: Any, plans: Sequence[TypingPlan]) -> None:
        """Score every plan's items in one call to the model and apply the best classes.

        A generator with ``score_continuations_many`` (the transformers backend)
        packs the documents of a batch into few forward passes; others are
        asked prompt by prompt.
        """
        if not plans:
            return
        for plan, (raw, offsets) in zip(plans, self._scores(generator, plans)):
            chosen: Dict[str, tuple] = {}
            for item, row in zip(plan.items, raw):
                probabilities = softmax([score - offset for score, offset in zip(row, offsets)])
                best = max(range(len(plan.classes)), key=probabilities.__getitem__)
                chosen[render_as(item, "")] = (plan.classes[best], probabilities[best])
            self._apply(plan.results, chosen, plan.counts)

    def class_scores(self, generator: Any, task: str, prompt: str, classes: Sequence[str],
                     items: Sequence[Item], content_free_prompt: Callable[[], str]
                     ) -> Tuple[List[List[float]], List[float]]:
        """The model's score of each item as each class, and the calibration offsets.

        RETURNS (Tuple[List[List[float]], List[float]]): log p(``\\tClass(...)``)
            per item (rows) and class (columns), and the content-free score per
            class (zeros without ``calibrate``); calibrated = raw - offset.

        Example:
            >>> raw, offsets = stage.class_scores(gen, "ner", prompt, ["Person", "City"],
            ...     [EntityItem("Person", "Ann")], lambda: cf_prompt)  # doctest: +SKIP
        """
        plan = TypingPlan(task, prompt, list(classes), [], list(items), content_free_prompt,
                          new_typing_counts())
        return self._scores(generator, [plan])[0]

    def _scores(self, generator: Any, plans: Sequence[TypingPlan]
                ) -> List[Tuple[List[List[float]], List[float]]]:
        """Raw scores (items x classes) and calibration offsets of each plan, asking
        the model once for all items and for every content-free table not cached."""
        keys = [self._content_free_key(generator, plan) for plan in plans]
        missing: Dict[tuple, TypingPlan] = {}
        for key, plan in zip(keys, plans):
            if key is not None and key not in missing and self._cached(key) is None:
                missing[key] = plan
        requests = [(plan.prompt + RESULTS_OPEN, plan.continuations()) for plan in plans]
        requests += [(key[1] + RESULTS_OPEN,
                      [ITEM_INDENT + content_free_item(plan.task, name) for name in plan.classes])
                     for key, plan in missing.items()]
        answers = score_requests(generator, requests)
        for key, found in zip(missing, answers[len(plans):]):
            self._store(key, found)
        scored = []
        for key, plan, flat in zip(keys, plans, answers):
            width = len(plan.classes)
            raw = [flat[k * width:(k + 1) * width] for k in range(len(plan.items))]
            offsets = self._cached(key) if key is not None else [0.0] * width
            scored.append((raw, offsets))
        return scored

    def _apply(self, results: Sequence[ParseResult], chosen: Dict[str, tuple],
               counts: Dict[str, int]) -> None:
        """Replace classes and scores; merge duplicates the new classes create."""
        keep_per_key = _most_per_class([item for r in results for item in r.items])
        seen: Counter = Counter()
        for result in results:
            kept: List[Item] = []
            for item in result.items:
                key = render_as(item, "")
                if key not in chosen:
                    kept.append(item)
                    continue
                class_name, score = chosen[key]
                if class_name != item.class_name:
                    counts["changed"] += 1
                counts["scored"] += 1
                if score < self.threshold:
                    counts["below_threshold"] += 1
                    continue
                if seen[key] >= keep_per_key[key]:
                    counts["merged"] += 1
                    continue
                seen[key] += 1
                kept.append(replace(item, class_name=class_name, score=round(score, 6)))
            result.items = kept

    def _content_free_key(self, generator: Any, plan: TypingPlan) -> Optional[tuple]:
        """The cache key of a plan's content-free scores (None without calibration):
        they belong to one model, one content-free prompt and its classes."""
        if not self.calibrate:
            return None
        return (id(generator), plan.content_free_prompt(), tuple(plan.classes), plan.task)

    def _cached(self, key: tuple) -> Optional[List[float]]:
        found = self._content_free.get(key)
        if found is not None:
            self._content_free.move_to_end(key)
        return found

    def _store(self, key: tuple, scores: List[float]) -> None:
        self._content_free[key] = scores
        while len(self._content_free) > self.cache_size:
            self._content_free.popitem(last=False)


def score_requests(generator: Any, requests: Sequence[Tuple[str, Sequence[str]]]
                   ) -> List[List[float]]:
    """The model's log-probabilities of each request's continuations after its prompt.

    Uses ``generator.score_continuations_many`` when the generator has it (one
    call, packed passes), else ``score_continuations`` once per request.

    Example:
        >>> score_requests(gen, [(prompt, ['\\tCity("Rome")'])])  # doctest: +SKIP
        [[-1.2]]
    """
    many = getattr(generator, "score_continuations_many", None)
    if many is not None:
        return many(requests)
    return [generator.score_continuations(prompt, continuations)
            for prompt, continuations in requests]


def _most_per_class(items: Sequence[Item]) -> Counter:
    """Per mention, how many items of one class the model wrote at most.

    ``[Person("X"), City("X")]`` is one mention typed twice (keep one after
    retyping); ``[Person("X"), Person("X")]`` names two occurrences (keep both).
    """
    per_class = Counter((render_as(item, ""), item.class_name) for item in items)
    most: Counter = Counter()
    for (key, _), count in per_class.items():
        most[key] = max(most[key], count)
    return most

