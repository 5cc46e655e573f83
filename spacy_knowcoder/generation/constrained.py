"""Schema-constrained decoding: a byte-level grammar of the ``results = [...]`` list.

A ``Constraint`` says what one completion may contain: the task, the candidate
class names (with their roles, for events), the classes that may wrap an
argument mention, and the window text. ``ResultsGrammar`` turns it into a small
incremental state machine over UTF-8 bytes that accepts exactly the KnowCoder
answers the parser (``parsing.parse_completion``) accepts without dropping
anything:

- NER / ED: ``results = [\\n\\tPerson("Barack Obama"),\\n\\tCity("Chicago")\\n]``
- RE: ``LocatedIn(Entity("Kurush"), City("Dokuzparinsky"))``
- EAE: ``Marriage(trigger = "married", spouse = [Entity("Ann")], place = [Entity("Paris")])``

Class names come from the candidate classes only, role names from the class's
roles (each at most once), and every mention is a non-empty, whitespace-trimmed
run of whole characters of the text, written as the text is escaped in a Python
string literal (``pycode.quote_string``), so the parser gets back a substring of
the text. Tokens are checked byte by byte, so a token may span a mention's
closing quote and the next ``)`` or a multi-byte character.

Decoding stays cheap: the caller tries the model's preferred token first and
falls back to the next best valid token only when it is rejected (see
``TokenChooser``); text that the grammar forces (``("`` after a class name,
``, `` between arguments) is appended without asking the model at all.

Example:
    >>> c = Constraint("ner", {"Person": ()}, text="Ann met Bob.")
    >>> g = ResultsGrammar(c)
    >>> state = g.advance(g.start(), b'results = [\\n\\tPerson("Bob")')
    >>> g.forced(state)
    b''
    >>> g.is_done(g.advance(state, b'\\n]'))
    True
    >>> g.advance(state, b'Person') is None   # a comma or the end must follow
    True
    >>> g.advance(g.start(), b'results = [\\n\\tPerson("Eve"') is None  # not in the text
    True
"""
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

from .. import answer
from ..answer import RESULTS_START
from ..errors import Errors
from ..parsing import EventItem, RelationItem, parse_completion
from ..pycode import quote_string
from ..schema.types import BASE_ENTITY

QUOTE = ord('"')
START_TEXT = RESULTS_START.encode()
ITEM_SEPARATOR = answer.ITEM_SEPARATOR.encode()
FIRST_ITEM = ("\n" + answer.ITEM_INDENT).encode()
CLOSE_EMPTY = b"]"
CLOSE_ITEMS = answer.LIST_CLOSE.encode()


@dataclass(frozen=True)
class Constraint:
    """What one completion may contain.

    task (str): "ner", "re", "ed" or "eae".
    classes (Mapping[str, Sequence[str]]): Allowed class names mapped to their
        roles (roles matter for EAE only).
    argument_classes (Sequence[str]): Classes that may wrap an argument or
        relation mention ("Entity" is always allowed).
    text (str): The window text; every mention must be a substring of it.

    Example:
        >>> Constraint("ner", {"Person": ()}, text="Ann").task
        'ner'
    """

    task: str
    classes: Mapping[str, Sequence[str]]
    argument_classes: Sequence[str] = (BASE_ENTITY,)
    text: str = ""

    @classmethod
    def of(cls, job: Any) -> "Constraint":
        """The constraint of a prompt job (anything with task, classes,
        argument_classes and text, such as ``extractor.PromptJob``).

        Example:
            >>> Constraint.of(job).task  # doctest: +SKIP
            'ner'
        """
        return cls(job.task, dict(job.classes), tuple(job.argument_classes), job.text)


@dataclass(frozen=True)
class _Trie:
    """Names as a byte trie: ``edges[node][byte] -> node``; ``names[node]`` ends there."""

    edges: Tuple[Dict[int, int], ...]
    names: Dict[int, str]

    @classmethod
    def build(cls, names: Sequence[str]) -> "_Trie":
        edges: List[Dict[int, int]] = [{}]
        ends: Dict[int, str] = {}
        for name in names:
            node = 0
            for byte in name.encode("utf-8"):
                if byte not in edges[node]:
                    edges.append({})
                    edges[node][byte] = len(edges) - 1
                node = edges[node][byte]
            ends[node] = name
        return cls(tuple(edges), ends)


@dataclass(frozen=True)
class _TextIndex:
    """The window text as it appears inside a Python string literal, in bytes.

    ``body`` is the escaped text; ``can_start``/``can_end`` mark character
    boundaries where a mention may start/end (not on whitespace); ``reach[p]``
    says a valid end is reachable from ``p``; ``starts[b]`` lists the start
    positions whose first byte is ``b``.
    """

    body: bytes
    can_start: Tuple[bool, ...]
    can_end: Tuple[bool, ...]
    reach: Tuple[bool, ...]
    starts: Dict[int, Tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, text: str) -> "_TextIndex":
        units = [(quote_string(ch)[1:-1].encode("utf-8"), ch.isspace()) for ch in text]
        body = b"".join(unit for unit, _ in units)
        can_start = [False] * (len(body) + 1)
        can_end = [False] * (len(body) + 1)
        pos = 0
        for unit, space in units:
            can_start[pos] = not space
            pos += len(unit)
            can_end[pos] = not space
        reach = [False] * (len(body) + 2)
        for p in range(len(body), -1, -1):
            reach[p] = can_end[p] or reach[p + 1]
        starts: Dict[int, List[int]] = {}
        for p, ok in enumerate(can_start[:-1]):
            if ok and reach[p + 1]:
                starts.setdefault(body[p], []).append(p)
        return cls(body, tuple(can_start), tuple(can_end), tuple(reach[:-1]),
                   {b: tuple(ps) for b, ps in starts.items()})


# A thread of the grammar's NFA: (phase, alternative, element index, progress, ctx).
# Elements: ("lit", bytes) | ("names", purpose, frozenset) | ("mention",) | ("goto", phase).
_Thread = Tuple[str, tuple, int, Any, tuple]
State = Tuple[_Thread, ...]
_DONE: _Thread = ("done", (), 0, None, ())


class ResultsGrammar:
    """The incremental byte-level grammar of one constrained completion.

    States are immutable tuples, so trying a token never changes the state a
    caller holds.

    constraint (Constraint): Task, classes, argument classes and text.
    RAISES: ValueError (E160) for an unknown task.

    Example:
        >>> g = ResultsGrammar(Constraint("ed", {"Marriage": ("spouse",)}, text="They wed."))
        >>> g.forced(g.start())
        b'results = ['
    """

    def __init__(self, constraint: Constraint) -> None:
        if constraint.task not in ("ner", "re", "ed", "eae"):
            raise ValueError(Errors.E160.format(task=constraint.task))
        self.constraint = constraint
        self.task = constraint.task
        self.index = _TextIndex.build(constraint.text)
        self.roles = {name: tuple(roles) for name, roles in constraint.classes.items()}
        self.class_names = frozenset(self.roles)
        self.argument_names = frozenset(constraint.argument_classes) | {BASE_ENTITY}
        self._tries: Dict[FrozenSet[str], _Trie] = {}
        self._can_write_items = bool(self.class_names) and bool(self.index.starts)

    # -- public API ------------------------------------------------------------

    def start(self) -> State:
        """The state before the first byte of the completion."""
        return tuple(self._enter("start", (("lit", START_TEXT), ("goto", "open")), 0, ()))

    def advance(self, state: State, data: bytes) -> Optional[State]:
        """The state after ``data``, or None when the grammar rejects it.

        state (State): The current state.
        data (bytes): The bytes of one or more tokens.
        RETURNS (Optional[State]): The new state, or None.
        """
        for byte in data:
            state = self._step(state, byte)
            if not state:
                return None
        return state

    def scan(self, state: State, data: bytes) -> Tuple[Optional[State], Optional[Tuple[int, bytes]]]:
        """Like ``advance``, and also report the last item boundary inside ``data``.

        RETURNS (Tuple[Optional[State], Optional[Tuple[int, bytes]]]): The new
            state (None if rejected) and ``(offset after the boundary, closing
            bytes)`` for the last boundary passed, or None.
        """
        last = None
        for offset, byte in enumerate(data, 1):
            state = self._step(state, byte)
            if not state:
                return None, last
            closing = self.checkpoint(state)
            if closing is not None:
                last = (offset, closing)
        return state, last

    def is_done(self, state: State) -> bool:
        """Whether the results list is closed (the completion is finished)."""
        return _DONE in state

    def allowed_bytes(self, state: State) -> Set[int]:
        """Every byte the grammar accepts next."""
        allowed: Set[int] = set()
        for phase, alt, idx, progress, ctx in state:
            if phase == "done":
                continue
            element = alt[idx]
            kind = element[0]
            if kind == "lit":
                allowed.add(element[1][progress])
            elif kind == "names":
                allowed.update(self._trie(element[2]).edges[progress])
            else:
                allowed.update(self._mention_bytes(progress))
        return allowed

    def forced(self, state: State) -> bytes:
        """The bytes that must follow, up to the next real choice (may be empty)."""
        out = bytearray()
        while not self.is_done(state):
            allowed = self.allowed_bytes(state)
            if len(allowed) != 1:
                break
            byte = allowed.pop()
            out.append(byte)
            state = self._step(state, byte)
        return bytes(out)

    def repeats_beyond_text(self, completion: bytes) -> bool:
        """Whether the item that ``completion`` just finished is one repeat too many.

        An NER or ED item may name a mention at most as often as the mention
        occurs in the text (alignment gives each repeat the next unused
        occurrence and drops the rest), whatever its class; a relation is worth
        writing once. A small model that starts to loop writes such items until
        its token budget runs out, so the decoder closes the list before it.

        completion (bytes): The completion up to right after an item (from
            ``results = [``, a primed prompt's open list included).
        RETURNS (bool): True when the last item cannot add anything.

        Example:
            >>> g = ResultsGrammar(Constraint("ner", {"Person": ()}, text="Ann met Ann."))
            >>> two = b'results = [\\n\\tPerson("Ann"),\\n\\tPerson("Ann")'
            >>> g.repeats_beyond_text(two), g.repeats_beyond_text(two + b',\\n\\tPerson("Ann")')
            (False, True)
        """
        if self.task == "eae":
            return False
        items = parse_completion((completion + CLOSE_ITEMS).decode("utf-8", "replace"),
                                 self.task, self.roles, tuple(self.argument_names)).items
        return bool(items) and repeat_flags(items, self.constraint.text, self.task)[-1]

    def checkpoint(self, state: State) -> Optional[bytes]:
        """At an item boundary, the bytes that close the list right here.

        RETURNS (Optional[bytes]): b"]" right after ``[``, b"\\n]" right after a
            finished item, None elsewhere.
        """
        for phase, _, idx, progress, _ in state:
            if idx == 0 and progress == 0:
                if phase == "open":
                    return CLOSE_EMPTY
                if phase == "after":
                    return CLOSE_ITEMS
        return None

    # -- the NFA ---------------------------------------------------------------

    def _step(self, state: State, byte: int) -> State:
        out: List[_Thread] = []
        for thread in state:
            if thread[0] != "done":
                out.extend(self._step_thread(thread, byte))
        return tuple(dict.fromkeys(out))

    def _step_thread(self, thread: _Thread, byte: int) -> List[_Thread]:
        phase, alt, idx, progress, ctx = thread
        element = alt[idx]
        kind = element[0]
        if kind == "lit":
            text = element[1]
            if text[progress] != byte:
                return []
            if progress + 1 < len(text):
                return [(phase, alt, idx, progress + 1, ctx)]
            return self._enter(phase, alt, idx + 1, ctx)
        if kind == "names":
            trie = self._trie(element[2])
            node = trie.edges[progress].get(byte)
            if node is None:
                return []
            out = [(phase, alt, idx, node, ctx)] if trie.edges[node] else []
            name = trie.names.get(node)
            if name is not None:
                out.extend(self._enter(phase, alt, idx + 1, _bind(element[1], name, ctx)))
            return out
        return self._step_mention(thread, byte)

    def _step_mention(self, thread: _Thread, byte: int) -> List[_Thread]:
        phase, alt, idx, positions, ctx = thread
        index = self.index
        out: List[_Thread] = []
        if byte == QUOTE and positions and any(index.can_end[p] for p in positions):
            out.extend(self._enter(phase, alt, idx + 1, ctx))
        if positions is None:
            moved = frozenset(p + 1 for p in index.starts.get(byte, ()))
        else:
            body, reach = index.body, index.reach
            moved = frozenset(p + 1 for p in positions
                              if p < len(body) and body[p] == byte and reach[p + 1])
        if moved:
            out.append((phase, alt, idx, moved, ctx))
        return out

    def _mention_bytes(self, positions: Optional[FrozenSet[int]]) -> Set[int]:
        index = self.index
        if positions is None:
            return set(index.starts)
        allowed = {index.body[p] for p in positions
                   if p < len(index.body) and index.reach[p + 1]}
        if any(index.can_end[p] for p in positions):
            allowed.add(QUOTE)
        return allowed

    def _enter(self, phase: str, alt: tuple, idx: int, ctx: tuple) -> List[_Thread]:
        """Threads that start at element ``idx`` of ``alt`` (following gotos)."""
        element = alt[idx]
        if element[0] != "goto":
            start = None if element[0] == "mention" else 0
            return [(phase, alt, idx, start, ctx)]
        target = element[1]
        if target == "done":
            return [_DONE]
        out: List[_Thread] = []
        for new_alt, new_ctx in self._alternatives(target, ctx):
            out.extend(self._enter(target, new_alt, 0, new_ctx))
        return out

    def _alternatives(self, phase: str, ctx: tuple) -> List[Tuple[tuple, tuple]]:
        """The alternatives (element sequences) of a phase."""
        if phase == "open":
            alts = [((("lit", CLOSE_EMPTY), ("goto", "done")), ())]
            if self._can_write_items:
                alts.append(((("lit", FIRST_ITEM), ("goto", "item")), ()))
            return alts
        if phase == "after":
            return [((("lit", ITEM_SEPARATOR), ("goto", "item")), ()),
                    ((("lit", CLOSE_ITEMS), ("goto", "done")), ())]
        if phase == "item":
            return [(self._item(), ())]
        if phase == "eae_more":
            return self._eae_more(ctx)
        if phase == "eae_list":
            return [((("lit", b"]"), ("goto", "eae_more")), ctx),
                    ((("lit", b", "),) + self._argument(b")") + (("goto", "eae_list"),), ctx)]
        raise AssertionError(phase)

    def _item(self) -> tuple:
        classes = ("names", "class", self.class_names)
        mention = (("lit", b'("'), ("mention",), ("lit", b")"))
        if self.task in ("ner", "ed"):
            return (classes,) + mention + (("goto", "after"),)
        if self.task == "re":
            return ((classes, ("lit", b"("),) + self._argument(b"), ")
                    + self._argument(b"))") + (("goto", "after"),))
        return (classes, ("lit", b'(trigger = "'), ("mention",), ("goto", "eae_more"))

    def _argument(self, after_quote: bytes) -> tuple:
        """``Entity("mention"`` followed by ``after_quote`` (e.g. b")")."""
        return (("names", "argument", self.argument_names), ("lit", b'("'), ("mention",),
                ("lit", after_quote))

    def _eae_more(self, ctx: tuple) -> List[Tuple[tuple, tuple]]:
        class_name, used = ctx
        alts: List[Tuple[tuple, tuple]] = [((("lit", b")"), ("goto", "after")), ())]
        remaining = frozenset(r for r in self.roles.get(class_name, ()) if r not in used)
        if remaining:
            role = (("lit", b", "), ("names", "role", remaining), ("lit", b" = ["))
            alts.append((role + self._argument(b")") + (("goto", "eae_list"),), ctx))
        return alts

    def _trie(self, names: FrozenSet[str]) -> _Trie:
        trie = self._tries.get(names)
        if trie is None:
            trie = self._tries[names] = _Trie.build(sorted(names))
        return trie


def repeat_flags(items: Sequence[Any], text: str, task: str) -> List[bool]:
    """For each parsed item, whether it is a repeat that the text cannot hold.

    The one definition of a repeat that the decoder closes the list at
    (``ResultsGrammar.repeats_beyond_text``) and that benchmarks count: an NER
    or ED item whose mention, whatever its class, has been written more often
    than it occurs in ``text`` so far in the list, or a relation written a
    second time. EAE items (each repeats the given trigger) are never repeats.

    items (Sequence[Any]): Items of ``parsing.parse_completion``, in order.
    text (str): The text the completion extracts from.
    task (str): The completion's task ("ner", "re", "ed" or "eae").
    RETURNS (List[bool]): One flag per item.

    Example:
        >>> from spacy_knowcoder.parsing import EntityItem
        >>> ann = EntityItem("Person", "Ann")
        >>> repeat_flags([ann, EntityItem("City", "Ann"), ann], "Ann met Ann.", "ner")
        [False, False, True]
    """
    if task == "eae":
        return [False] * len(items)
    flags: List[bool] = []
    written: Dict[str, int] = {}
    relations: Set[Any] = set()
    for item in items:
        if isinstance(item, RelationItem):
            flags.append(item in relations)
            relations.add(item)
            continue
        mention = item.trigger if isinstance(item, EventItem) else item.text
        written[mention] = written.get(mention, 0) + 1
        flags.append(written[mention] > _occurrences(text, mention))
    return flags


def _occurrences(text: str, mention: str) -> int:
    """How often ``mention`` occurs in ``text``, overlapping occurrences included."""
    count, start = 0, text.find(mention)
    while start != -1:
        count += 1
        start = text.find(mention, start + 1)
    return count


def _bind(purpose: str, name: str, ctx: tuple) -> tuple:
    """The context after a name was chosen: the event class and its used roles."""
    if purpose == "class":
        return (name, ())
    if purpose == "role":
        return (ctx[0], ctx[1] + (name,))
    return ctx


class TokenChooser:
    """Pick the best token that a grammar accepts, asking as little as possible.

    The model's preferred token is tried first; only when the grammar rejects
    it are the next ``top_k`` tried in order, and only if none of those fits is
    the whole vocabulary considered (just the tokens whose first byte the
    grammar allows, best first).

    token_bytes (Sequence[Optional[bytes]]): Bytes per token id (None: never allowed).
    top_k (int): How many runners-up to try before the vocabulary scan.

    Example:
        >>> chooser = TokenChooser([b"x", b"results = [", b"]"])
        >>> g = ResultsGrammar(Constraint("ner", {"A": ()}, text=""))
        >>> chooser.choose(g, g.start(), [5.0, 1.0, 0.0])[0]
        1
    """

    def __init__(self, token_bytes: Sequence[Optional[bytes]], top_k: int = 32) -> None:
        self.token_bytes = list(token_bytes)
        self.top_k = top_k
        self.first_byte: Dict[int, List[int]] = {}
        for token_id, data in enumerate(self.token_bytes):
            if data:
                self.first_byte.setdefault(data[0], []).append(token_id)
        self.fallbacks = 0

    def choose(self, grammar: ResultsGrammar, state: State, scores: Any,
               preferred: Optional[int] = None) -> Tuple[int, State]:
        """The best-scoring token the grammar accepts after ``state``.

        grammar (ResultsGrammar): The row's grammar.
        state (State): The row's state.
        scores (Union[torch.Tensor, Sequence[float]]): One score per token id.
        preferred (Optional[int]): The argmax, when the caller computed it already.
        RETURNS (Tuple[int, State]): The token id and the state after it.
        RAISES: RuntimeError (E161) when no token fits.
        """
        if preferred is None:
            preferred = max(range(len(scores)), key=lambda i: float(scores[i]))
        found = self._try(grammar, state, [preferred])
        if found is not None:
            return found
        self.fallbacks += 1
        found = self._try(grammar, state, top_ids(scores, self.top_k))
        if found is not None:
            return found
        candidates = [t for b in grammar.allowed_bytes(state) for t in self.first_byte.get(b, ())]
        candidates.sort(key=lambda t: -float(scores[t]))
        found = self._try(grammar, state, candidates)
        if found is None:
            raise RuntimeError(Errors.E161.format(text=str(state)[:80]))
        return found

    def _try(self, grammar: ResultsGrammar, state: State,
             token_ids: Sequence[int]) -> Optional[Tuple[int, State]]:
        for token_id in token_ids:
            data = self.token_bytes[token_id] if 0 <= token_id < len(self.token_bytes) else None
            if data:
                new_state = grammar.advance(state, data)
                if new_state is not None:
                    return token_id, new_state
        return None


def top_ids(scores: Any, k: int) -> List[int]:
    """The ids of the ``k`` best scores, best first (torch tensor or sequence)."""
    if hasattr(scores, "topk"):
        return scores.topk(min(k, scores.shape[-1])).indices.tolist()
    return sorted(range(len(scores)), key=lambda i: -float(scores[i]))[:k]
