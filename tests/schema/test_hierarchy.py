"""Hierarchy-aware matching (the reference's wikidata_upper option)."""
from spacy_knowcoder.schema.hierarchy import hierarchy_matcher, upper_labels
from spacy_knowcoder.schema.library import LibraryClass, SchemaLibrary


def lib() -> SchemaLibrary:
    return SchemaLibrary([
        LibraryClass("entity", "Q5", "person"),
        LibraryClass("entity", "Q82955", "politician", parents=("Q5",)),
        LibraryClass("entity", "Q30461", "president", parents=("Q82955",)),
        LibraryClass("entity", "Q515", "city"),
        LibraryClass("entity", "A", "loop a", parents=("B",)),
        LibraryClass("entity", "B", "loop b", parents=("A",)),
    ])


def test_subclass_counts_for_gold_ancestor_only_when_enabled():
    matches = hierarchy_matcher(lib())
    assert matches("president", "person") and matches("president", "politician")
    assert matches("person", "person")
    assert not matches("person", "president")  # a superclass is not more specific
    assert not matches("city", "person")
    exact = hierarchy_matcher(lib(), enabled=False)
    assert not exact("president", "person") and exact("city", "city")


def test_depth_limit_class_names_and_unknown_labels():
    matches = hierarchy_matcher(lib(), max_depth=1)
    assert matches("president", "politician") and not matches("president", "person")
    assert hierarchy_matcher(lib())("President", "Person")  # class names work too
    assert not hierarchy_matcher(lib())("unknown", "person")
    assert hierarchy_matcher(None)("x", "x")


def test_cycles_terminate_and_upper_labels_list_ancestors():
    matches = hierarchy_matcher(lib())
    assert matches("loop a", "loop b") and matches("loop b", "loop a")
    assert upper_labels(lib(), "president") == ["president", "politician", "person"]
    assert upper_labels(lib(), "nothing") == ["nothing"]
