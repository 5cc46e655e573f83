"""Keep held-out text out of training: drop training records that contain it.

Web-scale sources (Pile-NER's passages come from the Pile) can hold sentences
of a held-out benchmark. A training record is dropped when its text, compared
after lowercasing and dropping everything but letters and digits, contains
the text of any held-out record of at least ``MIN_CHARS`` such characters, or
equals a shorter one. ``tests/training/test_no_leak.py`` checks the built
data with the same rule.

Example:
    >>> index = HeldOutIndex(["The quick brown fox jumps over the lazy dog."])
    >>> index.contains("Intro. The quick brown fox jumps over the lazy dog! Outro.")
    True
    >>> index.contains("A quick brown fox.")
    False
"""
import re
from typing import Dict, Iterable, List

MIN_CHARS = 25
_NOT_ALNUM = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Lowercased letters and digits only (quoting and token spacing removed)."""
    return _NOT_ALNUM.sub("", text.lower())


class HeldOutIndex:
    """Normalized held-out texts, indexed by their first ``MIN_CHARS`` characters."""

    def __init__(self, texts: Iterable[str]):
        self.by_start: Dict[str, List[str]] = {}
        self.short: set = set()
        for text in texts:
            key = normalize(text)
            if len(key) >= MIN_CHARS:
                self.by_start.setdefault(key[:MIN_CHARS], []).append(key)
            elif key:
                self.short.add(key)

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds a held-out text (or is a short one)."""
        key = normalize(text)
        if key in self.short:
            return True
        starts = self.by_start
        for i in range(len(key) - MIN_CHARS + 1):
            found = starts.get(key[i:i + MIN_CHARS])
            if found and any(key.startswith(held, i) for held in found):
                return True
        return False
