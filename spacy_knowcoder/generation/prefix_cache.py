"""Split prompts into a shared prefix and a per-document suffix; cache the prefix.

Every KnowCoder prompt of a task and candidate schema starts with the same
system text, class definitions and instruction; only the ``sentence = "..."``
line and the ``Output:`` frame after it change from document to document. The
prefix is 90-98% of the prompt's tokens, so its key/value cache is computed
once and reused for every document and batch.

To make the cached and the uncached path see *the same token ids*, a prompt is
always tokenized in two pieces, prefix and suffix, and the ids are
concatenated (with or without the cache). The split is made just before the
last ``sentence = `` line, right after a newline, where byte-level BPE and
SentencePiece tokenizers do not merge across anyway.

Example:
    >>> split_prompt('class A: pass\\n# Do it.\\nsentence = "x"\\n\\nOutput:\\n')
    ('class A: pass\\n# Do it.\\n', 'sentence = "x"\\n\\nOutput:\\n')
    >>> split_prompt("no marker here")
    ('', 'no marker here')
"""
from collections import OrderedDict
from typing import Any, Callable, Hashable, Optional, Tuple

#: The prompt is split right before the last line that starts with this text.
SPLIT_MARKER = "\nsentence = "


def split_prompt(prompt: str) -> Tuple[str, str]:
    """Split a prompt into its reusable prefix and its per-document suffix.

    prompt (str): A KnowCoder prompt (or any text).
    RETURNS (Tuple[str, str]): ``(prefix, suffix)`` with ``prefix + suffix ==
        prompt``; the prefix is "" when the prompt has no ``sentence = `` line.

    Example:
        >>> split_prompt('A\\nsentence = "a"\\nsentence = "b"\\n')[1]
        'sentence = "b"\\n'
    """
    cut = prompt.rfind(SPLIT_MARKER)
    if cut == -1:
        return "", prompt
    cut += 1  # the newline stays with the prefix
    return prompt[:cut], prompt[cut:]


class PrefixCache:
    """A small LRU store of prefix key/value caches, keyed by the prefix's token ids.

    The store holds at most ``capacity`` entries, so memory stays bounded however
    many documents, tasks or candidate schemas pass through.

    capacity (int): Most prefixes kept (least recently used ones are dropped).

    Example:
        >>> cache = PrefixCache(capacity=2)
        >>> cache.get_or_compute((1, 2), lambda: "kv for (1, 2)")
        'kv for (1, 2)'
        >>> cache.get_or_compute((1, 2), lambda: "not computed again")
        'kv for (1, 2)'
        >>> (cache.hits, cache.misses)
        (1, 1)
    """

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = max(1, capacity)
        self._entries: "OrderedDict[Hashable, Any]" = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value for ``key``, computing and storing it when missing.

        key (Hashable): The prefix's token ids (as a tuple).
        compute (Callable[[], Any]): Builds the value (the prefix's KV cache).
        RETURNS (Any): The stored value.
        """
        found = self.get(key)
        if found is not None:
            return found
        self.misses += 1
        value = compute()
        self._entries[key] = value
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return value

    def get(self, key: Hashable) -> Optional[Any]:
        """The value for ``key`` (marked as recently used), or None."""
        if key not in self._entries:
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return self._entries[key]

    def clear(self) -> None:
        """Drop every entry (e.g. after the model's weights changed)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
