"""A tiny benchmark dataset (all four tasks) and its label file."""
import json

import pytest

TEXTS = ["Barack Obama was born in Honolulu.",
         "Ada Lovelace married William King in London."]
LABELS = {"entity_labels": {"person": "A human being.", "city": "A large town."},
          "relation_labels": {"born in": "The city where a person was born."},
          "event_types": {"marriage": {"description": "Two people get married.",
                                       "roles": ["spouse", "place"]}}}


def mention(text, start, end, **extra):
    return dict({"start": start, "end": end, "text": text[start:end]}, **extra)


def _records():
    a, b = TEXTS
    return [
        {"id": "a", "text": a,
         "entities": [mention(a, 0, 12, label="person"), mention(a, 25, 33, label="city")],
         "relations": [{"head": mention(a, 0, 12, label="person"),
                        "tail": mention(a, 25, 33, label="city"), "label": "born in"}],
         "events": []},
        {"id": "b", "text": b,
         "entities": [mention(b, 0, 12, label="person"), mention(b, 21, 33, label="person"),
                      mention(b, 37, 43, label="city")],
         "relations": [],
         "events": [{"trigger": mention(b, 13, 20), "type": "marriage",
                     "arguments": [mention(b, 21, 33, role="spouse"),
                                   mention(b, 37, 43, role="place")]}]},
    ]


@pytest.fixture
def records():
    return _records()


@pytest.fixture
def dataset(tmp_path):
    """Paths of the dataset and its label file."""
    data = tmp_path / "tiny.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    labels = tmp_path / "tiny.labels.json"
    labels.write_text(json.dumps(LABELS), encoding="utf-8")
    return data, labels
