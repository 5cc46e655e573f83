"""Training-data construction on real data: contract, determinism, held-out split."""
import json
from pathlib import Path

import pytest

from spacy_knowcoder.corpora.catalog import CATALOG
from spacy_knowcoder.extractor import classes_for
from spacy_knowcoder.parsing import parse_completion
from spacy_knowcoder.prompting import split_query, task_of_instruction
from spacy_knowcoder.schema import schema_from_source
from training.data import DataSettings, build_training_data
from training.data.responses import EMPTY
from training.data.settings import HELD_OUT

DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# The default held-out list (training.data.settings.HELD_OUT); wnut17, gum and
# wikievents are in it, so the NER, RE, ED and EAE sources are sets that are trained on.
SMALL = DataSettings(sft_datasets=("wikigold", "fewrel", "geneva", "litbank"),
                     instance_datasets=("fewrel", "geneva"), sft_per_dataset_task=6,
                     instances_per_dataset=5, definition_docs=6, eval_limit=4)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not DATA_ROOT.is_dir():
        pytest.skip(f"the raw datasets are not at {DATA_ROOT}")
    out = tmp_path_factory.mktemp("data")
    return build_training_data(SMALL, DATA_ROOT, out), out


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_sft_contract(built):
    result, out = built
    rows = _rows(result.sft_path)
    assert {r["task"] for r in rows} == {"ner", "re", "ed", "eae"}
    assert {r["dataset"] for r in rows} == {"wikigold", "fewrel", "geneva", "litbank"}
    for row in rows:
        assert row["prompt"].endswith("\nOutput:\n")
        query = row["prompt"].split("\nInput:\n", 1)[1][: -len("\nOutput:\n")]
        classes, instruction, _ = split_query(query)
        assert task_of_instruction(instruction) == row["task"]
        schema = schema_from_source(classes)
        parsed = parse_completion(row["response"], row["task"], classes_for(row["task"], schema))
        assert parsed.complete and not parsed.problems, row
        assert (row["response"] == EMPTY) == (not parsed.items)
    stats = json.loads((out / "sft.stats.json").read_text(encoding="utf-8"))
    assert stats["samples"] == len(rows) and 0 < stats["empty_answer_share"] < 1


def test_pretraining_contract(built):
    result, out = built
    rows = _rows(result.pretrain_path)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"definition", "instance"}
    instances = [r for r in rows if r["kind"] == "instance"]
    assert {r["source"] for r in instances} == {"fewrel", "geneva"}
    for row in instances:
        lines = row["text"].split("\n")
        assert lines[0].startswith("# Extract the ") and lines[1].startswith("sentence = ")
        assert lines[2].startswith("from ") and lines[3] == "results = ["
    for row in rows:
        if row["kind"] == "definition":
            assert row["text"].startswith("class Entity:")
    assert json.loads((out / "pretrain.stats.json").read_text())["documents"] == len(rows)


def test_held_out_sets_are_written_and_never_trained_on(built):
    result, out = built
    manifest = json.loads(result.heldout_manifest.read_text(encoding="utf-8"))
    # an English build writes the English held-out sets (the others by language)
    assert [m["dataset"] for m in manifest] == [
        name for name in HELD_OUT if CATALOG[name].language == "en"]
    assert {m["language"] for m in manifest} == {"en"}
    assert {"wnut17", "gum", "wikievents", "weibo_ner"} <= set(HELD_OUT)
    for entry in manifest:
        assert len(_rows(out / "heldout" / entry["file"])) == entry["records"] == 4
        assert entry["note"] and Path(entry["label_file"]).is_file()
    wikievents = next(m for m in manifest if m["dataset"] == "wikievents")
    assert wikievents["tasks"] == ["ed", "eae"] and wikievents["split"] == "test"
    assert not {r["dataset"] for r in _rows(result.sft_path)} & set(HELD_OUT)
    assert not {r["source"] for r in _rows(result.pretrain_path)} & set(HELD_OUT)


def test_same_seed_same_bytes_other_seed_differs(built, tmp_path):
    result, out = built
    again = build_training_data(SMALL, DATA_ROOT, tmp_path / "again")
    for name in ("sft.jsonl", "pretrain.jsonl", "sft.stats.json", "heldout/re3d.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    other = DataSettings(**{**SMALL.__dict__, "seed": 1})
    build_training_data(other, DATA_ROOT, tmp_path / "other")
    assert (tmp_path / "other" / "sft.jsonl").read_bytes() != (out / "sft.jsonl").read_bytes()


def test_settings_are_checked():
    with pytest.raises(ValueError, match="E255.*ed_candidates_max"):
        DataSettings(ed_candidates_min=4, ed_candidates_max=3)
    with pytest.raises(ValueError, match="E255"):
        DataSettings(held_out=("nosuch",))
    assert DataSettings.gpu().re_candidates == 8


def test_relations_get_their_own_cap_and_too_long_samples_warn(tmp_path):
    if not DATA_ROOT.is_dir():
        pytest.skip(f"the raw datasets are not at {DATA_ROOT}")
    from dataclasses import replace

    from training.data.build import build_sft

    only_re = replace(SMALL, tasks=("re",), sft_datasets=("fewrel",), sft_per_dataset_task=3)
    assert len(build_sft(only_re, DATA_ROOT, {})) == 3
    assert len(build_sft(replace(only_re, re_per_dataset=7), DATA_ROOT, {})) == 7
    with pytest.warns(UserWarning, match=r"W251.*RE sample\(s\) of dataset 'fewrel'"):
        assert build_sft(replace(only_re, max_sample_chars=50), DATA_ROOT, {}) == []


@pytest.mark.parametrize("name", ["data", "data.build", "data.following", "data.responses",
                                  "data.sampling", "data.schemas", "data.settings", "data.stats",
                                  "data.understanding"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"training.{name}"),
                             optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0


def _candidate_classes(prompt):
    from spacy_knowcoder.generation.prefix_cache import split_prompt

    prefix = split_prompt(prompt)[0]
    return {line.split("(")[0][len("class "):] for line in prefix.splitlines()
            if line.startswith("class ") and "(Entity)" in line and not line.startswith("class Entity")}


def test_schema_groups_share_one_candidate_list_that_holds_every_gold_class(tmp_path):
    if not DATA_ROOT.is_dir():
        pytest.skip(f"the raw datasets are not at {DATA_ROOT}")
    from collections import Counter
    from dataclasses import replace

    from spacy_knowcoder.generation.prefix_cache import split_prompt
    from training.data.build import build_sft

    ner = replace(SMALL, tasks=("ner",), sft_datasets=("multiconer2_en",), sft_per_dataset_task=40,
                  ner_candidates=16, negative_share=0.0, max_sample_chars=0)
    grouped = build_sft(replace(ner, schema_group_size=4), DATA_ROOT, {})
    alone = build_sft(ner, DATA_ROOT, {})
    sizes = Counter(Counter(split_prompt(r["prompt"])[0] for r in grouped).values())
    assert max(sizes) <= 4 and sum(n for k, n in sizes.items() if k > 1) >= 5  # groups close early
    assert sum(k * n for k, n in sizes.items()) == 40  # when their gold classes would not fit
    assert len({split_prompt(r["prompt"])[0] for r in alone}) > 30  # per-prompt candidates
    for rows in (grouped, alone):
        for row in rows:
            classes = _candidate_classes(row["prompt"])
            assert len(classes) == 16
            answered = {item.split("(")[0].strip() for item in row["response"].splitlines()[1:-1]}
            assert answered <= classes, (answered, classes)
