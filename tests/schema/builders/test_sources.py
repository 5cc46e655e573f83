"""Builders for DBpedia, property lists, events, released files and co-occurrence."""
import json
from pathlib import Path

import pytest

from spacy_knowcoder.schema.builders.cooccurrence import (
    CooccurrenceStats,
    apply_cooccurrence,
    docred_triples,
)
from spacy_knowcoder.schema.builders.dbpedia import build_from_dbpedia
from spacy_knowcoder.schema.builders.events import build_events, geneva_events
from spacy_knowcoder.schema.builders.properties import (
    load_property_file,
    relations_from_property_list,
)
from spacy_knowcoder.schema.builders.released import build_from_released
from spacy_knowcoder.schema.builders.shared_data import build_from_shared_data
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary

DATA = Path(__file__).parents[4] / "shared" / "data"
DBPEDIA = {
    "classes": [
        {"id": "dbo:Agent", "label": "agent", "comment": "Acts.", "subClassOf": ["owl:Thing"],
         "wikidata": []},
        {"id": "dbo:Person", "label": "person", "comment": "", "subClassOf": ["dbo:Agent"],
         "wikidata": ["Q215627", "Q5"]},
        {"id": "dbo:Place", "label": "place", "comment": "", "subClassOf": [], "wikidata": []},
    ],
    "properties": [
        {"id": "dbo:birthPlace", "kind": "owl:ObjectProperty", "label": "birth place",
         "comment": "", "domain": ["dbo:Person"], "range": ["dbo:Place"],
         "subPropertyOf": [], "wikidata": ["P19"]},
        {"id": "dbo:mentor", "kind": "owl:ObjectProperty", "label": "mentor", "comment": "",
         "domain": ["dbo:Person"], "range": ["dbo:Person"], "subPropertyOf": [], "wikidata": []},
        {"id": "dbo:height", "kind": "owl:DatatypeProperty", "label": "height", "comment": "",
         "domain": ["dbo:Person"], "range": ["xsd:double"], "subPropertyOf": [], "wikidata": []},
    ],
}


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_dbpedia_classes_relations_and_merge_with_wikidata(tmp_path):
    lib = SchemaLibrary([LibraryClass("relation", "P19", "place of birth", "Where born.")])
    build_from_dbpedia(write(tmp_path, "dbo.json", DBPEDIA), lib)
    assert lib.parents("dbo:Person") == ["dbo:Agent"] and lib.resolve("Q5") == "dbo:Person"
    assert lib["P19"].label == "place of birth"  # the first record keeps its label
    assert (lib["P19"].head, lib["P19"].tail) == (("dbo:Person",), ("dbo:Place",))
    assert "dbo:mentor" in lib and "dbo:height" not in lib
    with pytest.raises(ValueError, match="E203.*no 'classes'"):
        build_from_dbpedia(write(tmp_path, "bad.json", {"classes": None}))
    with pytest.raises(ValueError, match="E203.*invalid JSON at line 1"):
        build_from_dbpedia(write(tmp_path, "broken.json", "{"))


def test_property_formats(tmp_path):
    props = [{"id": "P19", "label": "place of birth", "description": "d", "aliases": ["born in"],
              "datatype": "wikibase-item"},
             {"id": "P1082", "label": "population", "datatype": "quantity"}]
    assert [r.key for r in relations_from_property_list(props)] == ["P19"]
    assert [r.key for r in load_property_file(write(tmp_path, "props.json", props))] == ["P19"]
    pid = load_property_file(write(tmp_path, "pid2name.json",
                                   {"P17": ["country", "No description defined"]}))
    assert (pid[0].label, pid[0].description) == ("country", "")
    sparql = load_property_file(write(tmp_path, "all.json", [
        {"property": "http://www.wikidata.org/entity/P6", "propertyLabel": "head of government",
         "propertyDescription": "d"}]))
    assert sparql[0].key == "P6"
    table = load_property_file(write(tmp_path, "rel.md", "| ID | Name | Description |\n"
                                     "| -- | -- | -- |\n|P6 | head of government | x |\n"))
    assert [(r.key, r.label, r.description) for r in table] == [("P6", "head of government", "x")]


def test_event_ontologies(tmp_path):
    geneva = {"Know": {"frames": {"Becoming_aware": {"description": "Words of awareness. More."}},
                       "arguments": {"Cognizer": {}, "Undesirable event": {}}}}
    kairos = {"Life.Die.Unspecified": {"template": "<arg1> died at <arg2> place",
                                       "keywords": ["die"], "roles": ["Victim", "Place"]}}
    lib = build_events(geneva=write(tmp_path, "g.json", geneva),
                       kairos=write(tmp_path, "k.json", kairos))
    know = lib.schema_type("geneva:Know")
    assert (know.description, know.roles) == ("Words of awareness.", ("Cognizer",
                                                                      "Undesirable_event"))
    die = lib.schema_type("kairos:Life.Die.Unspecified")
    assert (die.class_name, die.parents, die.examples) == ("DieUnspecified", ("Die",), ("die",))
    assert die.description == "Victim died at Place place"
    assert lib.ancestors("kairos:Life.Die.Unspecified") == ["kairos:Life.Die", "kairos:Life"]
    with pytest.raises(ValueError, match="E203"):
        geneva_events(["not", "a", "dict"])


def test_released_files_are_parsed_without_running_them(tmp_path):
    write(tmp_path, "Entities.py", 'class Human(Entity):\n\t"""\n\tDescription: A person.\n'
          '\tExamples: Ann, Bob\n\t"""\n\tpass\n\nclass Politician(Human):\n\tpass\n')
    write(tmp_path, "Relations.py", "class Spouse(Relation):\n\tdef __init__(self, "
          "head_entity: Human, tail_entity: Human):\n\t\tpass\n")
    write(tmp_path, "Events.py", "class Marriage(Event):\n\tdef __init__(self, trigger: str, "
          "spouse: List[ Entity ]):\n\t\timport os\n")
    lib = build_from_released(tmp_path)
    assert lib.ancestors("Politician") == ["Human"]
    assert lib["Human"].examples == ("Ann", "Bob")
    assert lib.schema_type("Spouse").head == ("Human",)
    assert lib["Marriage"].roles == ("spouse",)


def test_cooccurrence_fills_only_missing_constraints():
    docs = [{"vertexSet": [[{"type": "PER"}], [{"type": "LOC"}], [{"type": "ORG"}]],
             "labels": [{"r": "P19", "h": 0, "t": 1}, {"r": "P19", "h": 0, "t": 1},
                        {"r": "P108", "h": 0, "t": 2}, {"r": "P19", "h": 5, "t": 1}]}]
    stats = CooccurrenceStats()
    for triple in docred_triples(docs):
        stats.add(*triple)
    lib = SchemaLibrary([LibraryClass("entity", "Q5", "human"),
                         LibraryClass("entity", "Q2221906", "place"),
                         LibraryClass("entity", "Q43229", "organization"),
                         LibraryClass("relation", "P19", "place of birth"),
                         LibraryClass("relation", "P108", "employer", head=("Q43229",))])
    changed = apply_cooccurrence(lib, stats, type_map={"PER": "Q5", "LOC": "Q2221906",
                                                       "ORG": "Q43229"})
    assert changed == 2
    assert (lib["P19"].head, lib["P19"].tail, lib["P19"].count) == (("Q5",), ("Q2221906",), 2)
    assert lib["P108"].head == ("Q43229",)  # declared: kept
    assert lib["P108"].tail == ("Q43229",)


@pytest.mark.skipif(not (DATA / "wikidata_schema").is_dir(), reason="shared data not present")
def test_full_build_from_shared_data_meets_the_counts():
    with pytest.warns(UserWarning, match="W201"):
        lib, report = build_from_shared_data(DATA)
    stats = lib.stats()
    assert not report.missing
    assert stats["entity"]["classes"] >= 700
    assert stats["relation"]["classes"] >= 1000
    assert stats["relation"]["with_head_or_tail"] >= 1000
    assert stats["event"]["with_roles"] >= 150
    assert lib.resolve("P19", "relation") == "P19" and lib["P19"].head
    names = [lib.class_name(k) for k in lib.keys()]
    assert len(set(names)) == len(names)
