"""The UTF-8 bytes each token of a vocabulary stands for.

Constrained decoding checks tokens byte by byte, so it needs the exact bytes of
every token, including tokens that hold only part of a multi-byte character.
Byte-level BPE vocabularies (GPT-2, Llama-3, SmolLM2) spell bytes with the
printable characters of GPT-2's ``bytes_to_unicode`` table; SentencePiece
vocabularies (Llama-2) write ``▁`` for a space and ``<0xNN>`` for raw bytes.
Special tokens (BOS, EOS, padding, chat markers) get None: they never appear
inside a results list.

Example:
    >>> byte_level_decoder()["Ġ"]
    32
    >>> token_to_bytes("ĠObama", byte_level_decoder())
    b' Obama'
    >>> token_to_bytes("<0x0A>", byte_level_decoder())
    b'\\n'
"""
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional

_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")
SENTENCEPIECE_SPACE = "\u2581"


@lru_cache(maxsize=1)
def byte_level_decoder() -> Dict[str, int]:
    """GPT-2's printable stand-ins for bytes, mapped back to the byte values.

    RETURNS (Dict[str, int]): 256 characters -> byte values.
    """
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    decoder = {chr(b): b for b in printable}
    extra = 0
    for byte in range(256):
        if byte not in printable:
            decoder[chr(256 + extra)] = byte
            extra += 1
    return decoder


def token_to_bytes(token: str, decoder: Dict[str, int]) -> bytes:
    """The bytes of one vocabulary entry.

    token (str): The token as the vocabulary spells it.
    decoder (Dict[str, int]): ``byte_level_decoder()``.
    RETURNS (bytes): The bytes it stands for.
    """
    match = _BYTE_TOKEN.fullmatch(token)
    if match:
        return bytes([int(match.group(1), 16)])
    if all(char in decoder for char in token):
        return bytes(decoder[char] for char in token)
    return token.replace(SENTENCEPIECE_SPACE, " ").encode("utf-8")


def vocabulary_bytes(tokenizer: Any) -> List[Optional[bytes]]:
    """The bytes of every token id of a tokenizer (None for special tokens).

    tokenizer (PreTrainedTokenizerBase): A transformers tokenizer.
    RETURNS (List[Optional[bytes]]): Indexed by token id.

    Example:
        >>> table = vocabulary_bytes(tokenizer)  # doctest: +SKIP
        >>> table[tokenizer.eos_token_id] is None  # doctest: +SKIP
        True
    """
    decoder = byte_level_decoder()
    special = set(tokenizer.all_special_ids)
    size = len(tokenizer)
    tokens = tokenizer.convert_ids_to_tokens(list(range(size)))
    table: List[Optional[bytes]] = []
    for token_id, token in enumerate(tokens):
        if token_id in special or token is None:
            table.append(None)
            continue
        data = token_to_bytes(token, decoder)
        table.append(data or None)
    return table
