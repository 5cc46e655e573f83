"""Reading a corpus for annotation: JSONL, DocBin and text files, and what cannot be read."""
import spacy
from spacy.tokens import DocBin

from spacy_knowcoder.annotate.inputs import BadInput, InputDoc, input_files, read_inputs


def test_jsonl_records_keep_their_ids_and_metadata_and_bad_lines_are_listed(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b'{"id": "a1", "text": "Ann met Bob.", "year": 1990}\n'
                     b'not json\n'
                     b'\n'
                     b'{"text": "No id here."}\n'
                     b'{"id": 3, "title": "no text"}\n'
                     b'{"id": 4, "text": "caf\xe9 latin-1"}\n'
                     b'[1, 2]\n')
    items = list(read_inputs(path))
    docs = [i for i in items if isinstance(i, InputDoc)]
    bad = [i for i in items if isinstance(i, BadInput)]
    assert [(d.id, d.text, d.meta) for d in docs] == [
        ("a1", "Ann met Bob.", {"year": 1990}), ("corpus.jsonl:4", "No id here.", {})]
    assert [(b.where, b.reason.split(" (")[0]) for b in bad] == [
        ("corpus.jsonl:2", "not a JSON object"), ("corpus.jsonl:5", "no string field 'text'"),
        ("corpus.jsonl:6", "not UTF-8"), ("corpus.jsonl:7", "no string field 'text'")]


def test_a_folder_of_text_docbin_and_jsonl_files_in_sorted_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "note.txt").write_text("A whole file is one doc.\nSecond line.")
    (tmp_path / "a.jsonl").write_text('{"text": "From JSONL.", "n": 1}\n')
    (tmp_path / "latin.txt").write_bytes("Caf\xe9".encode("latin-1"))
    (tmp_path / ".hidden.txt").write_text("skipped")
    nlp = spacy.blank("en")
    doc = nlp("From a DocBin.")
    doc.user_data["id"] = "kept-id"
    DocBin(store_user_data=True, docs=[doc, nlp("Second.")]).to_disk(tmp_path / "c.spacy")
    (tmp_path / "d.spacy").write_bytes(b"not a docbin")
    assert [p.name for p in input_files(tmp_path)] == [
        "a.jsonl", "note.txt", "c.spacy", "d.spacy", "latin.txt"]
    items = list(read_inputs(tmp_path, id_key="id"))
    summary = [(i.id, i.text) if isinstance(i, InputDoc) else ("BAD", i.where) for i in items]
    assert summary == [("a.jsonl:1", "From JSONL."), ("b/note.txt", "A whole file is one doc.\nSecond line."),
                       ("kept-id", "From a DocBin."), ("c.spacy:1", "Second."),
                       ("BAD", "d.spacy"), ("BAD", "latin.txt")]
    assert items[2].doc_bytes is not None and "iconv" in items[-1].reason
