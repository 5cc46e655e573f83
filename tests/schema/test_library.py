"""SchemaLibrary: names, taxonomy, schemas, labels, statistics, serialization."""
import json

import pytest

from spacy_knowcoder.schema.builders.released import build_from_released
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary
from spacy_knowcoder.schema.naming import assign_class_names, is_valid_class_name


def lib_fixture() -> SchemaLibrary:
    return SchemaLibrary([
        LibraryClass("entity", "Q5", "human", "A person.", aliases=("person",), count=10),
        LibraryClass("entity", "Q82955", "politician", parents=("Q5",), examples=("Obama",)),
        LibraryClass("entity", "Q6256", "country", "A nation."),
        LibraryClass("entity", "Q308", "Mercury", "The planet."),
        LibraryClass("entity", "Q925", "mercury", "The element."),
        LibraryClass("entity", "Q1", "none", "A keyword label."),
        LibraryClass("entity", "Q2", "3D film", "Starts with a digit."),
        LibraryClass("entity", "Q3", "Entity", "Named like the base class."),
        LibraryClass("relation", "P17", "country", "Sovereign state.", head=("Q5",),
                     tail=("Q6256",)),
        LibraryClass("relation", "P26", "spouse", head=("Q5", "Q404"), tail=("Q5",),
                     examples=(("Ann", "Bob"),)),
        LibraryClass("event", "geneva:Marry", "marriage", roles=("spouse", "place"),
                     examples=("married",)),
    ])


def test_class_names_are_valid_unique_and_deterministic():
    lib = lib_fixture()
    names = {k: lib.class_name(k) for k in lib.keys()}
    assert names["Q308"] == "Mercury" and names["Q925"] == "MercuryQ925"
    assert names["Q6256"] == "Country" and names["P17"] == "CountryRelation"
    assert names["Q1"] == "NoneType" and names["Q2"] == "Type3dFilm"
    assert names["Q3"] == "EntityType"
    assert len(set(names.values())) == len(names)
    assert all(is_valid_class_name(n) for n in names.values())
    shuffled = assign_class_names(reversed(list(lib)))
    assert shuffled == names  # independent of insertion order


def test_names_are_stable_after_save_and_load(tmp_path):
    lib = lib_fixture()
    lib.to_disk(tmp_path / "lib.json")
    loaded = SchemaLibrary.from_disk(tmp_path / "lib.json")
    assert loaded.to_dict() == lib.to_dict()
    assert [loaded.class_name(k) for k in loaded.keys()] == [lib.class_name(k)
                                                            for k in lib.keys()]
    assert loaded["P26"].examples == (("Ann", "Bob"),)


def test_merging_by_same_as_fills_gaps():
    lib = SchemaLibrary([LibraryClass("entity", "dbo:Person", "person", same_as=("Q5",))])
    key = lib.add(LibraryClass("entity", "Q5", "human", "A person.", aliases=("people",),
                               parents=("Q215627",)))
    assert key == "dbo:Person" and len(lib) == 1
    merged = lib["dbo:Person"]
    assert merged.label == "person" and merged.description == "A person."
    assert merged.aliases == ("people", "human") and merged.parents == ("Q215627",)
    assert lib.resolve("Q5") == "dbo:Person"


def test_taxonomy_and_cycles_do_not_hang():
    lib = SchemaLibrary([LibraryClass("entity", "A", "a", parents=("B",)),
                         LibraryClass("entity", "B", "b", parents=("C",)),
                         LibraryClass("entity", "C", "c", parents=("A", "C")),
                         LibraryClass("entity", "D", "d", parents=("A", "missing"))])
    assert lib.ancestors("D") == ["A", "B", "C"]
    assert lib.ancestors("D", max_depth=1) == ["A"]
    assert lib.descendants("C") == ["B", "A", "D"]
    assert lib.cycles() == [["A", "B", "C", "A"]]
    assert set(lib.topological("entity")) == {"A", "B", "C", "D"}
    assert lib.to_schema(["D"]).entities[0].parents == ("A",)


def test_to_schema_maps_constraints_to_class_names_and_drops_unknown():
    lib = lib_fixture()
    schema = lib.to_schema(["Q82955", "P26", "geneva:Marry"])
    assert schema.entities[0].parents == ("Human",)
    assert (schema.relations[0].head, schema.relations[0].tail) == (("Human",), ("Human",))
    assert schema.events[0].roles == ("spouse", "place")


def test_labels_are_unique_per_kind_and_can_be_mapped():
    lib = lib_fixture()
    assert lib.label("Q308") == "Mercury" and lib.label("Q925") == "mercury"
    dup = SchemaLibrary([LibraryClass("entity", "Q1", "bank"), LibraryClass("entity", "Q2", "bank")])
    assert [dup.label("Q1"), dup.label("Q2")] == ["bank", "bank (Q2)"]
    lib.set_labels({"Human": "PERSON"})
    assert lib.labels["Human"] == "PERSON"
    assert lib.to_schema(["Q5"]).entities[0].label == "PERSON"
    with pytest.raises(ValueError, match=r"E200.*'Humn'"):
        lib.set_labels({"Humn": "X"})


def test_stats_count_descriptions_constraints_and_roles():
    stats = lib_fixture().stats()
    assert stats["entity"]["classes"] == 8
    assert stats["entity"]["with_description"] == 7
    assert stats["entity"]["without_description"] == 1
    assert stats["relation"]["with_head_and_tail"] == 2
    assert stats["event"]["with_roles"] == 1


def test_rendered_files_round_trip_through_the_released_reader(tmp_path):
    lib = lib_fixture()
    paths = lib.write_files(tmp_path)
    assert [p.name for p in paths] == ["Entities.py", "Relations.py", "Events.py"]
    entities = (tmp_path / "Entities.py").read_text()
    assert entities.index("class Human(") < entities.index("class Politician(Human)")
    reread = build_from_released(tmp_path)
    for key in lib.keys():
        name = lib.class_name(key)
        original, parsed = lib.schema_type(key), reread.schema_type(name)
        assert parsed.class_name == name
        assert parsed.parents == original.parents
        assert parsed.description == original.description
        assert getattr(parsed, "roles", ()) == getattr(original, "roles", ())
        assert getattr(parsed, "head", ()) == getattr(original, "head", ())


def test_bad_library_files_get_coded_errors(tmp_path):
    path = tmp_path / "lib.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="E201"):
        SchemaLibrary.from_disk(path)
    path.write_text(json.dumps({"format": "spacy-knowcoder-schema-library",
                                "classes": [{"kind": "thing", "key": "Q1", "label": "x"}]}))
    with pytest.raises(ValueError, match="E202"):
        SchemaLibrary.from_disk(path)
    path.write_text(json.dumps({"format": "spacy-knowcoder-schema-library",
                                "classes": [{"kind": "entity", "key": "Q1", "lable": "x"}]}))
    with pytest.raises(ValueError, match=r"E202.*#0"):
        SchemaLibrary.from_disk(path)


def test_find_reports_similar_names():
    lib = lib_fixture()
    assert lib.find("Politician") == "Q82955" and lib.find("P17") == "P17"
    with pytest.raises(KeyError, match="E205.*Mercury"):
        lib.find("mercu")
