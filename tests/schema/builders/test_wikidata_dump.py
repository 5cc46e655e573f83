"""The streaming Wikidata dump builder on a small fixture in the real dump format."""
import bz2
import gzip
import shutil
from pathlib import Path

import pytest

from spacy_knowcoder.schema.builders.wikidata_dump import (
    DumpReport,
    build_from_wikidata_dump,
    iter_dump,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "wikidata" / "dump_small.json"


@pytest.fixture(scope="module")
def built():
    with pytest.warns(UserWarning, match=r"W200.*3 malformed.*lines 5, 9, 15"):
        return build_from_wikidata_dump(FIXTURE)


def test_classes_taxonomy_and_counts(built):
    lib, report = built
    assert lib.keys("entity") == ["Q5", "Q100", "Q101", "Q515", "Q35120", "Q215627",
                                  "Q486972"]
    assert lib["Q5"].label == "human"
    assert lib["Q5"].aliases == ("person", "people")
    assert lib["Q5"].description == "any member of Homo sapiens"
    assert lib.parents("Q5") == ["Q215627"]
    assert lib.ancestors("Q5") == ["Q215627", "Q35120"]
    assert lib.parents("Q515") == ["Q486972"]  # the deprecated P279 is ignored
    assert sorted(lib.descendants("Q35120")) == ["Q215627", "Q486972", "Q5", "Q515"]
    assert (lib["Q5"].count, lib["Q515"].count, lib["Q35120"].count) == (1, 2, 0)
    assert "Q102" not in lib and report.no_label == 1  # no English label


def test_property_constraints(built):
    lib, report = built
    assert lib.keys("relation") == ["P19", "P26"]  # P1082 (quantity) is no relation
    assert (lib["P19"].head, lib["P19"].tail) == (("Q5",), ("Q486972",))
    schema = lib.to_schema(["P19", "P26"])
    assert (schema.relations[0].head, schema.relations[0].tail) == (("Human",),
                                                                    ("HumanSettlement",))
    assert schema.relations[1].head == ("Human",)  # Q999999 is not in the dump
    assert report.skipped_properties == 1 and report.unresolved == 1


def test_report_counts_malformed_lines_and_second_pass(built):
    _, report = built
    assert (report.malformed, report.malformed_lines) == (3, [5, 9, 15])
    assert report.lines == 19 and report.entities == 14
    assert report.second_pass  # Q35120 was referenced after it was read


def test_cycle_does_not_hang(built):
    lib, _ = built
    assert lib.ancestors("Q100") == ["Q101"]
    assert lib.cycles() == [["Q100", "Q101", "Q100"]]


@pytest.mark.parametrize("suffix,opener", [(".json.gz", gzip.open), (".json.bz2", bz2.open)])
def test_compressed_dumps_give_the_same_library(built, tmp_path, suffix, opener):
    path = tmp_path / ("dump" + suffix)
    with open(FIXTURE, "rb") as src, opener(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    with pytest.warns(UserWarning, match="W200"):
        lib, _ = build_from_wikidata_dump(path)
    assert lib.to_dict() == built[0].to_dict()


def test_result_does_not_depend_on_line_order(built, tmp_path):
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    body = [line.rstrip(",") for line in lines[1:-1]]
    path = tmp_path / "reversed.json"
    path.write_text("[\n" + ",\n".join(reversed(body)) + "\n]\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="W200"):
        lib, _ = build_from_wikidata_dump(path)
    assert lib.to_dict() == built[0].to_dict()


def test_min_instances_keeps_ancestors(tmp_path):
    with pytest.warns(UserWarning):
        lib, _ = build_from_wikidata_dump(FIXTURE, min_instances=2)
    assert lib.keys("entity") == ["Q515", "Q35120", "Q486972"]


def test_unsupported_suffix_and_missing_file(tmp_path):
    bad = tmp_path / "dump.txt"
    bad.write_text("[]\n")
    with pytest.raises(ValueError, match="E204"):
        list(iter_dump(bad))
    with pytest.raises(FileNotFoundError, match="E021"):
        list(iter_dump(tmp_path / "missing.json"))


def test_iter_dump_counts_lines():
    report = DumpReport()
    ids = [e["id"] for e in iter_dump(FIXTURE, report)]
    assert ids[:3] == ["Q35120", "Q5", "Q42"] and len(ids) == 14
