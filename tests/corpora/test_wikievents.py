"""WikiEvents: records come from tokens, whatever the file's character offsets say."""
import json

from spacy_knowcoder.corpora.readers.wikievents import read_wikievents


def test_drifting_offsets_and_misplaced_sent_idx(tmp_path):
    # Character offsets past the end of "text" and a sent_idx that disagrees
    # with the trigger's tokens, as in parts of the real dev.jsonl.
    doc = {
        "doc_id": "d1", "text": "A bomb exploded.",
        "tokens": ["A", "bomb", "exploded", ".", "Police", "came", "."],
        "sentences": [[[["A", 0, 1], ["bomb", 2, 6], ["exploded", 7, 15], [".", 15, 16]], ""],
                      [[["Police", 30, 36], ["came", 37, 41], [".", 41, 42]], ""]],
        "entity_mentions": [{"id": "e1", "start": 1, "end": 2},
                            {"id": "e2", "start": 4, "end": 5}],
        "event_mentions": [
            {"event_type": "Conflict.Attack.DetonateExplode",
             "trigger": {"start": 2, "end": 3, "sent_idx": 1},
             "arguments": [{"entity_id": "e1", "role": "Instrument"},
                           {"entity_id": "e2", "role": "Attacker"}]}],
    }
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    records = list(read_wikievents(path, {"Conflict.Attack.DetonateExplode": "detonate explode"}))
    assert [r["text"] for r in records] == ["A bomb exploded .", "Police came ."]
    event = records[0]["events"][0]
    assert event["trigger"]["text"] == "exploded"
    assert [(a["role"], a["text"]) for a in event["arguments"]] == [("instrument", "bomb")]
    for record in records:
        for e in record["events"]:
            for m in [e["trigger"]] + e["arguments"]:
                assert record["text"][m["start"]:m["end"]] == m["text"]
