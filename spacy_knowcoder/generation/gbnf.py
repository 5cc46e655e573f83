"""The constrained-decoding grammar as GBNF, for serving engines that constrain on their side.

``constrained.ResultsGrammar`` constrains the local decoder byte by byte; this
module writes the same language (the KnowCoder ``results = [...]`` list with the
candidate classes only and every mention a whitespace-trimmed substring of the
text, escaped as in a Python string) as a GBNF grammar, the format of
llama.cpp's ``grammar`` field. XGrammar reads the same format, so vLLM
(``structured_outputs.grammar``, ``guided_grammar`` before v0.12) and SGLang
(``ebnf``) take it too (``request_fields``).

A mention is "a prefix of a suffix" of the text: one rule per character,
``m<i> ::= <char i> m<i+1>?`` (no ``?`` after whitespace, which cannot end a
mention), so the grammar grows linearly with the text. Event arguments use each
role at most once, as locally, for classes with up to ``MAX_EXACT_ROLES`` roles
(one rule per subset of used roles); beyond that roles may repeat, and the
parser keeps the first.

Example:
    >>> from spacy_knowcoder.generation.constrained import Constraint
    >>> print(results_gbnf(Constraint("ner", {"Person": ()}, text="Al")))  # doctest: +NORMALIZE_WHITESPACE
    root ::= "results = [" ( "]" | "\\n\\t" item ( ",\\n\\t" item )* "\\n]" )
    item ::= class "(\\"" mention ")"
    class ::= "Person"
    mention ::= ( m0 | m1 ) "\\""
    m0 ::= "A" m1?
    m1 ::= "l"
"""
from typing import Dict, List, Optional, Sequence, Tuple

from .. import answer
from ..errors import Errors
from ..pycode import quote_string
from ..schema.types import BASE_ENTITY
from .constrained import Constraint

#: Event classes with more roles than this let roles repeat (2^k rules otherwise).
MAX_EXACT_ROLES = 6
#: The engines whose request fields ``request_fields`` knows.
ENGINES = ("llama.cpp", "vllm", "vllm-legacy", "sglang")


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal.

    Example:
        >>> gbnf_literal('a"b\\\\c\\n')
        '"a\\\\"b\\\\\\\\c\\\\n"'
    """
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _names(names: Sequence[str]) -> str:
    return " | ".join(gbnf_literal(name) for name in sorted(names))


def _mention_rules(text: str) -> Tuple[List[str], List[int]]:
    """Rules ``m<i>`` for the characters of ``text``, and the start indexes."""
    units = [(quote_string(ch)[1:-1], ch.isspace()) for ch in text]
    reach = [False] * (len(units) + 1)  # a valid end lies at or after unit i
    for i in range(len(units) - 1, -1, -1):
        reach[i] = (not units[i][1]) or reach[i + 1]
    rules = []
    for i, (unit, space) in enumerate(units):
        if not reach[i]:
            continue
        literal = gbnf_literal(unit)
        if space:
            rules.append(f"m{i} ::= {literal} m{i + 1}")
        elif reach[i + 1]:
            rules.append(f"m{i} ::= {literal} m{i + 1}?")
        else:
            rules.append(f"m{i} ::= {literal}")
    starts = [i for i, (_, space) in enumerate(units) if not space and reach[i]]
    return rules, starts


def results_gbnf(constraint: Constraint) -> str:
    """The GBNF grammar of one constrained completion (from ``results = [`` on).

    constraint (Constraint): Task, classes, argument classes and text.
    RETURNS (str): The grammar; its ``root`` accepts what ``ResultsGrammar`` accepts.
    """
    mention_rules, starts = _mention_rules(constraint.text)
    classes = [name for name in constraint.classes]
    if not classes or not starts:
        return f'root ::= {gbnf_literal(answer.EMPTY_RESULTS)}\n'
    sep, first, close = (gbnf_literal(answer.ITEM_SEPARATOR),
                         gbnf_literal("\n" + answer.ITEM_INDENT), gbnf_literal(answer.LIST_CLOSE))
    rules = [f"root ::= {gbnf_literal(answer.RESULTS_START)} ( \"]\" | {first} item "
             f"( {sep} item )* {close} )"]
    arguments = sorted(set(constraint.argument_classes) | {BASE_ENTITY})
    argument = 'argclass "(\\"" mention'
    if constraint.task in ("ner", "ed"):
        rules.append('item ::= class "(\\"" mention ")"')
    elif constraint.task == "re":
        rules.append(f'item ::= class "(" {argument} "), " {argument} "))"')
    else:
        rules.extend(_event_rules(constraint.classes, argument))
    rules.append(f"class ::= {_names(classes)}")
    if constraint.task in ("re", "eae"):
        rules.append(f"argclass ::= {_names(arguments)}")
    rules.append(f"mention ::= ( {' | '.join(f'm{i}' for i in starts)} ) \"\\\"\"")
    rules.extend(mention_rules)
    return "\n".join(rules) + "\n"


def _event_rules(classes: Dict[str, Sequence[str]], argument: str) -> List[str]:
    """``item`` for EAE: ``Class(trigger = "t", role = [Arg("m"), ...], ...)``."""
    rules, alternatives = [], []
    for number, (name, roles) in enumerate(sorted(classes.items())):
        roles = list(dict.fromkeys(roles))
        alternatives.append(f'{gbnf_literal(name + "(trigger = ")} "\\"" mention e{number}-0')
        arglist = f'{argument} ")" ( ", " {argument} ")" )* "]"'
        if len(roles) > MAX_EXACT_ROLES:
            options = " | ".join(gbnf_literal(f", {role} = [") for role in roles)
            rules.append(f'e{number}-0 ::= ( ( {options} ) {arglist} )* ")"')
            continue
        for used in range(2 ** len(roles)):
            options = [f'{gbnf_literal(f", {role} = [")} {arglist} e{number}-{used | 1 << bit}'
                       for bit, role in enumerate(roles) if not used & 1 << bit]
            rules.append(f'e{number}-{used} ::= ' + " | ".join(['")"'] + options))
    return [f"item ::= {' | '.join(alternatives)}"] + rules


def check_engine(engine: Optional[str]) -> None:
    """E104 unless ``engine`` is None or one of ``ENGINES`` (the one check of the setting).

    Example:
        >>> check_engine("vllm"), check_engine(None)
        (None, None)
    """
    if engine is not None and engine not in ENGINES:
        raise ValueError(Errors.E104.format(name="grammar", value=engine,
                                            expected=f"null or one of {', '.join(ENGINES)}"))


def request_fields(grammar: str, engine: str) -> Dict[str, object]:
    """The request fields that ask ``engine`` to constrain by ``grammar``.

    Example:
        >>> request_fields("root ::= \\"x\\"", "vllm")
        {'structured_outputs': {'grammar': 'root ::= "x"'}}
        >>> sorted(request_fields("root ::= \\"x\\"", "llama.cpp"))
        ['cache_prompt', 'grammar']
    """
    check_engine(engine)
    if engine == "llama.cpp":
        return {"grammar": grammar, "cache_prompt": True}
    if engine == "vllm":
        return {"structured_outputs": {"grammar": grammar}}
    if engine == "vllm-legacy":
        return {"guided_grammar": grammar}
    return {"ebnf": grammar}  # sglang


__all__ = ["ENGINES", "MAX_EXACT_ROLES", "check_engine", "gbnf_literal", "request_fields",
           "results_gbnf"]
