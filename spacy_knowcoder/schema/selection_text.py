"""Word tokens for class retrieval: lowercased, plural endings stripped.

Example:
    >>> tokenize("Cities of Italy")
    ['city', 'of', 'italy']
"""
import re
from typing import List

STOPWORDS = frozenset(
    "a an and are as at be been but by for from has have he her his i in into is it its "
    "of on or she that the their them they this to was were which who will with".split())
_TOKEN = re.compile(r"[^\W_]+")


def normalize_token(token: str) -> str:
    """Lowercase and strip a plural ending: "Cities" -> "city", "cars" -> "car"."""
    word = token.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> List[str]:
    """Normalized word tokens of a text (stopwords kept; the indexes skip them)."""
    return [normalize_token(t) for t in _TOKEN.findall(text)]
