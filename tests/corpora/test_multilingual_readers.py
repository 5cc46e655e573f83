"""The multilingual readers on the real files of ../shared/data (counts from each SOURCE.md)."""
import pytest

from spacy_knowcoder.corpora import CATALOG, read_dataset
from spacy_knowcoder.corpora.catalog import HELD_OUT_LANGUAGES
from spacy_knowcoder.corpora.readers.columns import ColumnFormat, read_columns


def _counts(name, split, data_root):
    records = list(read_dataset(name, split, data_root))
    return len(records), sum(len(r["entities"]) for r in records)


@pytest.mark.parametrize("name,split,sentences,entities", [
    ("universal_ner_zh", "train", 3997, 6118),
    ("universal_ner_zh", "dev", 500, 753),
    ("universal_ner_da", "dev", 564, 379),
    ("universal_ner_pt", "dev", 1172, 1401),
    ("universal_ner_sr", "dev", 536, 844),
    ("universal_ner_sk", "dev", 1060, 636),
    ("universal_ner_sv", "train", 4303, 967),
    ("conll2002_es", "train", 8323, 18798),
    ("conll2002_es", "dev", 1915, 4352),
    ("conll2002_nl", "train", 15806, 13344),
    ("conll2002_nl", "dev", 2895, 2616),
    ("wikineural_de", "val", 12330, 17616),
    ("wikineural_ru", "val", 11540, 18210),
    ("cluener2020", "train", 10748, 23972),
    # SOURCE.md counts B-/S- tags (13,438); two M-/E- tags after O open a span
    # here, as an I- after O does in IOB1 files.
    ("resume_ner", "train", 3821, 13440),
    ("resume_ner", "dev", 463, 1497),
    # names only: PER/ORG/LOC/GPE.NAM = 578 + 183 + 56 + 205 and 90 + 47 + 6 + 26
    ("weibo_ner", "train", 1350, 1022),
    ("weibo_ner", "dev", 270, 169),
])
def test_sentence_and_entity_counts_match_the_source(name, split, sentences, entities,
                                                     data_root):
    assert _counts(name, split, data_root) == (sentences, entities)


def test_chinese_keeps_its_original_text_without_spaces(data_root):
    uner = next(read_dataset("universal_ner_zh", "dev", data_root))
    assert uner["text"] == ("同样，施力的大小不同，引起的加速度不同，最终的结果也不一样，"
                            "亦可以从向量的加成性来看。")
    resume = next(read_dataset("resume_ner", "dev", data_root))
    assert resume["text"].startswith("吴重阳，中国国籍，大学本科")
    assert [(e["text"], e["label"]) for e in resume["entities"]][:3] == [
        ("吴重阳", "person"), ("中国国籍", "country"), ("大学本科", "education")]


def test_weibo_drops_the_position_digit_and_nominal_mentions(data_root):
    records = list(read_dataset("weibo_ner", "dev", data_root))
    assert records[0]["text"].startswith("口腔溃疡加上这玩")
    assert not any(char.isdigit() for char in records[0]["text"][:8])
    labels = {e["label"] for r in records for e in r["entities"]}
    assert labels == {"person", "organization", "location", "geopolitical entity"}


def test_cluener_inclusive_ends_become_exclusive(data_root):
    record = next(read_dataset("cluener2020", "train", data_root))
    assert [(e["text"], e["label"], e["start"], e["end"]) for e in record["entities"]] == [
        ("浙商银行", "company", 0, 4), ("叶老桂", "person", 9, 12), ("叶老桂", "person", 32, 35)]


def test_cluener_span_that_misses_its_mention_names_the_line(tmp_path):
    from spacy_knowcoder.corpora.readers.cluener import read_cluener

    path = tmp_path / "train.json"
    path.write_text('{"text": "叶老桂", "label": {"name": {"叶老桂": [[0, 3]]}}}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"E250.*line 1.*inclusive"):
        list(read_cluener(path, {"name": "person"}))


def test_conll2002_is_read_as_latin1(data_root):
    record = next(read_dataset("conll2002_es", "train", data_root))
    assert record["text"].startswith("Melbourne ( Australia ) , 25 may ( EFE )")
    accented = [r["text"] for r in read_dataset("conll2002_es", "dev", data_root, limit=200)
                if "ó" in r["text"]]
    assert accented  # Latin-1 bytes decoded as ó, not U+FFFD


def test_a_latin1_file_read_as_utf8_names_file_line_and_encoding(tmp_path):
    path = tmp_path / "esp.train"
    path.write_bytes("Madrid B-LOC\n\nJosé B-PER\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"E022.*esp\.train.*not valid utf-8 \(line 3.*Latin-1"):
        list(read_columns(path, {"LOC": "location", "PER": "person"},
                          ColumnFormat(separator=" ", n_columns=2)))
    record = list(read_columns(path, {"LOC": "location", "PER": "person"},
                               ColumnFormat(separator=" ", n_columns=2), encoding="latin-1"))[1]
    assert record["entities"][0]["text"] == "José"


def test_relx_heads_and_tails_in_four_languages(data_root):
    for lang in ("de", "es", "fr", "tr"):
        records = list(read_dataset(f"relx_distant_{lang}", "all", data_root))
        assert len(records) == 120
    first = next(read_dataset("relx_distant_de", "all", data_root))["relations"][0]
    assert (first["head"]["text"], first["label"], first["tail"]["text"]) == (
        "Maggi", "owned by", "Nestlé")


def test_every_dataset_of_a_held_out_language_is_held_out():
    for info in CATALOG.values():
        if info.language in HELD_OUT_LANGUAGES:
            assert info.held_out, info.name
    languages = {info.language for info in CATALOG.values()}
    assert {"zh", "de", "es", "fr", "it", "ru", "da", "sk", "sr"} <= languages
    trained = {info.language for info in CATALOG.values() if not info.held_out}
    assert len(set(HELD_OUT_LANGUAGES) - trained) >= 2
    assert not set(HELD_OUT_LANGUAGES) & trained


def test_bmes_tags_are_read(tmp_path):
    path = tmp_path / "dev.char.bmes"
    path.write_text("吴 B-NAME\n重 M-NAME\n阳 E-NAME\n， O\n中 S-CONT\n", encoding="utf-8")
    record = next(read_columns(path, {"NAME": "person", "CONT": "country"},
                               ColumnFormat(separator=" ", n_columns=2, joiner="")))
    assert record["text"] == "吴重阳，中"
    assert [(e["text"], e["label"]) for e in record["entities"]] == [
        ("吴重阳", "person"), ("中", "country")]


def test_fewfc_events_in_english_classes(data_root):
    base = list(read_dataset("fewfc", "base", data_root))
    trans = list(read_dataset("fewfc", "trans", data_root))
    assert (len(base), sum(len(r["events"]) for r in base)) == (2732, 4682)
    assert sum(len(e["arguments"]) for r in trans for e in r["events"]) == 2564
    assert {e["type"] for r in trans for e in r["events"]} == {
        "acquisition", "judgment", "contract signing", "guarantee", "bid win"}
    event = base[0]["events"][0]
    assert (event["type"], event["trigger"]["text"]) == ("pledge", "质押")
    assert {"sub_org", "obj_org", "collateral"} <= {a["role"] for a in event["arguments"]}


def test_smartdata_entities_events_and_leadership(data_root):
    with pytest.warns(UserWarning, match=r"W250.*Skipped 123 annotation"):
        records = list(read_dataset("smartdata_de", "train", data_root))
    # SOURCE.md: 1,244 documents, 10,397 concept mentions of which 751 are triggers
    assert len(records) == 1244
    assert sum(len(r["entities"]) for r in records) == 10397 - 751
    events = [e for r in records for e in r["events"]]
    assert len(events) == 544 and {"traffic jam", "strike", "insolvency"} <= {
        e["type"] for e in events}
    relations = [rel for r in records for rel in r["relations"]]
    assert len(relations) == 40 and {rel["label"] for rel in relations} == {"leader of"}
    assert {rel["head"]["label"] for rel in relations} == {"person"}
