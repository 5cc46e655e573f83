"""The sentence encoder of embedding selection, with the real all-MiniLM-L6-v2."""
import numpy as np
import pytest

from spacy_knowcoder.schema.embeddings import (
    TextEncoder,
    cache_key,
    class_text,
    resolve_encoder,
    top_k,
)
from spacy_knowcoder.schema.library import LibraryClass

CITY = LibraryClass("entity", "Q515", "city", "A large human settlement.",
                    aliases=("town", "metropolis"))


def test_rows_are_unit_float32_and_keep_input_order(minilm):
    texts = ["A much longer sentence about rivers, mountains and the sea.", "Hi.", ""]
    rows = minilm.encode(texts)
    assert rows.shape == (3, minilm.dim) == (3, 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # Batched (sorted by length) and one by one give the same rows, in input order.
    single = np.stack([minilm.encode([t])[0] for t in texts])
    assert np.allclose(rows, single, atol=1e-5)


def test_class_text_is_closer_to_a_matching_sentence(minilm):
    cls, match, other = minilm.encode([
        class_text(CITY), "She moved to Paris last year.",
        "The enzyme folds into a helix before binding its substrate."])
    assert float(cls @ match) > float(cls @ other) + 0.1


def test_class_matrix_is_cached_on_disk_and_reused(minilm, tmp_path):
    texts = [class_text(CITY), "protein: A biomolecule made of amino acids.",
             "musical instrument: A device for making music."]
    before = minilm.encoded
    first = minilm.encode_cached(texts, tmp_path)
    (path,) = tmp_path.glob("*.npy")
    assert path.stem == cache_key(minilm.model_id, texts)
    assert minilm.encoded == before + 3
    second = minilm.encode_cached(texts, tmp_path)
    assert minilm.encoded == before + 3  # read from the file, not encoded again
    assert np.array_equal(first, second)
    minilm.encode_cached(texts[:2], tmp_path)  # other texts, other file
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_a_broken_cache_file_is_replaced_with_a_warning(minilm, tmp_path):
    texts = ["city", "protein"]
    path = tmp_path / f"{cache_key(minilm.model_id, texts)}.npy"
    path.write_bytes(b"not a numpy file")
    with pytest.warns(UserWarning, match="W203"):
        rows = minilm.encode_cached(texts, tmp_path)
    assert np.array_equal(np.load(path), rows)


def test_cache_key_depends_on_model_and_texts():
    assert cache_key("m", ["a", "b"]) != cache_key("m", ["b", "a"])
    assert cache_key("m", ["a", "b"]) != cache_key("n", ["a", "b"])
    assert cache_key("m", ["ab"]) != cache_key("m", ["a", "b"])


def test_missing_model_directory_is_a_coded_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="E208.*no such directory"):
        TextEncoder(str(tmp_path / "no-model"))
    with pytest.raises(FileNotFoundError, match="E208"):
        resolve_encoder("./models/not-there")
    with pytest.raises(ValueError, match="E208.*no config.json"):
        resolve_encoder(tmp_path)
    assert resolve_encoder("org/some-encoder") == ("org/some-encoder", "hub")


def test_class_text_and_top_k():
    assert class_text(LibraryClass("entity", "X", "thing")) == "thing"
    assert top_k(np.array([0.2, 0.7, 0.1]), 5) == [1, 0, 2]
    assert top_k(np.array([0.2, 0.7]), 0) == []
