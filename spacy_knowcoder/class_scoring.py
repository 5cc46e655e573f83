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
from dataclasses import replace
from typing import Any, Callable, Dict, List, Sequence, Tuple

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
        mention two of them found becomes one item.

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
        items = [item for result in results for item in result.items]
        if task not in SCORED_TASKS or not items:
            return
        if getattr(generator, "score_continuations", None) is None:
            counts["no_model_scores"] += len(items)
            return
        if len(classes) < 2:
            counts["one_class"] += len(items)
            return
        placed = [item for item in items if in_text(item)]
        counts["not_in_text"] += len(items) - len(placed)
        unique = list({render_as(item, ""): item for item in placed}.values())
        if not unique:
            return
        raw, offsets = self.class_scores(generator, task, prompt, classes, unique,
                                         content_free_prompt)
        chosen: Dict[str, tuple] = {}
        for item, row in zip(unique, raw):
            probabilities = softmax([score - offset for score, offset in zip(row, offsets)])
            best = max(range(len(classes)), key=probabilities.__getitem__)
            chosen[render_as(item, "")] = (classes[best], probabilities[best])
        self._apply(results, chosen, counts)

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
        continuations = [ITEM_INDENT + render_as(item, name)
                         for item in items for name in classes]
        flat = generator.score_continuations(prompt + RESULTS_OPEN, continuations)
        width = len(classes)
        raw = [flat[k * width:(k + 1) * width] for k in range(len(items))]
        return raw, self._offsets(generator, task, classes, content_free_prompt)

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

    def _offsets(self, generator: Any, task: str, classes: Sequence[str],
                 content_free_prompt: Callable[[], str]) -> List[float]:
        if not self.calibrate:
            return [0.0] * len(classes)
        prompt = content_free_prompt()
        key = (id(generator), prompt, tuple(classes))  # offsets belong to one model
        found = self._content_free.get(key)
        if found is None:
            found = generator.score_continuations(
                prompt + RESULTS_OPEN,
                [ITEM_INDENT + content_free_item(task, name) for name in classes])
            self._content_free[key] = found
            while len(self._content_free) > self.cache_size:
                self._content_free.popitem(last=False)
        else:
            self._content_free.move_to_end(key)
        return found


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

