"""Metrics over benchmark records, checked by hand and by an independent count."""
import random
from collections import Counter

import pytest

from spacy_knowcoder.evaluation.metrics import (
    Counts, TASK_METRICS, macro_mean, match_items, score_records)

TEXT = "Barack Obama married Michelle Robinson in Chicago."


def ent(start, end, label):
    return {"start": start, "end": end, "label": label, "text": TEXT[start:end]}


def rel(head, tail, label):
    return {"head": head, "tail": tail, "label": label}


def evt(trigger, type_, args):
    return {"trigger": {"start": trigger[0], "end": trigger[1],
                        "text": TEXT[trigger[0]:trigger[1]]}, "type": type_,
            "arguments": [dict(ent(s, e, "person"), role=r) for s, e, r in args]}


OBAMA, MICHELLE, CHICAGO = ent(0, 12, "person"), ent(21, 38, "person"), ent(42, 49, "city")


def record(**fields):
    return dict({"id": "1", "text": TEXT, "entities": [], "relations": [], "events": []},
                **fields)


def test_ner_strict_and_text_match():
    gold = record(entities=[OBAMA, MICHELLE, CHICAGO])
    # right span wrong type, right text at another offset, a duplicate
    pred = record(entities=[OBAMA, OBAMA, ent(21, 29, "person"), ent(42, 49, "person"),
                            dict(ent(13, 20, "person"), text="Chicago")])
    scores = score_records([(gold, pred)], ["ner"])
    strict, text = scores["ner_strict"], scores["ner_text"]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (1, 4, 2)
    assert strict["per_label"]["city"] == {"p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 0,
                                           "fn": 1}
    # text match: "Barack Obama" once (duplicate is a FP), "Chicago" typed person: FP
    assert (text["tp"], text["fp"], text["fn"]) == (1, 4, 2)
    assert strict["p"] == pytest.approx(0.2) and strict["r"] == pytest.approx(1 / 3)


def test_text_match_ignores_offsets():
    gold = record(entities=[dict(ent(42, 49, "city"))])
    pred = record(entities=[dict(ent(13, 20, "city"), text="Chicago")])
    scores = score_records([(gold, pred)], ["ner"])
    assert scores["ner_text"]["f"] == 1.0 and scores["ner_strict"]["f"] == 0.0


def test_relations_strict_needs_entity_types_boundaries_does_not():
    gold = record(relations=[rel(OBAMA, CHICAGO, "lives in"), rel(OBAMA, MICHELLE, "spouse")])
    pred = record(relations=[rel(OBAMA, dict(CHICAGO, label="person"), "lives in"),
                             rel(OBAMA, MICHELLE, "sibling")])
    scores = score_records([(gold, pred)], ["re"])
    assert scores["re_strict"]["tp"] == 0
    assert scores["re_boundaries"]["tp"] == 1 and scores["re_boundaries"]["fp"] == 1
    assert scores["re_boundaries"]["per_label"]["sibling"]["fp"] == 1


def test_events_identification_and_classification():
    gold = record(events=[evt((13, 20), "marriage", [(0, 12, "spouse"), (21, 38, "spouse")])])
    pred = record(events=[evt((13, 20), "divorce", [(0, 12, "spouse")]),
                          evt((13, 20), "marriage", [(21, 38, "place"), (42, 49, "place")])])
    scores = score_records([(gold, pred)], ["ed", "eae"])
    assert scores["ed_trigger_id"]["tp"] == 1 and scores["ed_trigger_id"]["fp"] == 1
    assert scores["ed_trigger_cls"]["tp"] == 1 and scores["ed_trigger_cls"]["fp"] == 1
    # arguments carry the event type: the divorce argument misses
    assert (scores["eae_arg_id"]["tp"], scores["eae_arg_id"]["fp"],
            scores["eae_arg_id"]["fn"]) == (1, 2, 1)
    assert scores["eae_arg_cls"]["tp"] == 0


def test_hierarchy_hook_counts_ancestors_under_the_gold_label():
    ancestors = {"city": {"location"}, "person": set()}

    def label_matches(pred, gold):
        return pred == gold or gold in ancestors.get(pred, set())

    gold = record(entities=[dict(CHICAGO, label="location"), OBAMA])
    pred = record(entities=[CHICAGO, dict(OBAMA, label="location")])
    plain = score_records([(gold, pred)], ["ner"])["ner_strict"]
    aware = score_records([(gold, pred)], ["ner"], label_matches)["ner_strict"]
    assert plain["tp"] == 0
    assert (aware["tp"], aware["fp"], aware["fn"]) == (1, 1, 1)
    assert aware["per_label"]["location"]["tp"] == 1
    assert aware["per_label"]["location"]["fp"] == 1  # "location" predicted for Obama


def test_counts_and_means():
    assert Counts().f == 0.0 and Counts(tp=2, fn=2).r == 0.5
    assert match_items([], [("a", (1,))])["a"].fp == 1
    assert macro_mean([None]) is None and macro_mean([0.2, 0.4]) == pytest.approx(0.3)


# -- an independent recomputation on random records ---------------------------

def _tuples(r, metric):
    ents, rels, evs = r["entities"], r["relations"], r["events"]
    return {
        "ner_strict": [(e["start"], e["end"], e["label"]) for e in ents],
        "ner_text": [(r["text"][e["start"]:e["end"]], e["label"]) for e in ents],
        "re_strict": [(x["head"]["start"], x["head"]["end"], x["head"].get("label"),
                       x["tail"]["start"], x["tail"]["end"], x["tail"].get("label"),
                       x["label"]) for x in rels],
        "re_boundaries": [(x["head"]["start"], x["head"]["end"], x["tail"]["start"],
                           x["tail"]["end"], x["label"]) for x in rels],
        "ed_trigger_id": [(e["trigger"]["start"], e["trigger"]["end"]) for e in evs],
        "ed_trigger_cls": [(e["trigger"]["start"], e["trigger"]["end"], e["type"])
                           for e in evs],
        "eae_arg_id": [(e["type"], a["start"], a["end"]) for e in evs
                       for a in e["arguments"]],
        "eae_arg_cls": [(e["type"], a["role"], a["start"], a["end"]) for e in evs
                        for a in e["arguments"]],
    }[metric]


def recount(pairs, metric):
    """P/R/F1 with Counter intersections, written without the package's code."""
    tp = n_pred = n_gold = 0
    for gold, pred in pairs:
        g, p = Counter(_tuples(gold, metric)), Counter(_tuples(pred, metric))
        tp += sum((g & p).values())
        n_pred += sum(p.values())
        n_gold += sum(g.values())
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def _random_record(rng, i):
    spans = [(0, 12), (21, 38), (42, 49), (13, 20), (0, 6)]
    def m():
        s, e = rng.choice(spans)
        return ent(s, e, rng.choice(["person", "city"]))
    return record(id=str(i),
                  entities=[m() for _ in range(rng.randint(0, 4))],
                  relations=[rel(m(), m(), rng.choice(["a", "b"]))
                             for _ in range(rng.randint(0, 3))],
                  events=[evt(rng.choice(spans), rng.choice(["x", "y"]),
                              [(*rng.choice(spans), rng.choice(["r", "s"]))
                               for _ in range(rng.randint(0, 2))])
                          for _ in range(rng.randint(0, 2))])


@pytest.mark.parametrize("seed", range(5))
def test_scores_agree_with_an_independent_recount(seed):
    rng = random.Random(seed)
    pairs = [(_random_record(rng, i), _random_record(rng, i)) for i in range(30)]
    scores = score_records(pairs, list(TASK_METRICS))
    for metric, result in scores.items():
        assert (result["p"], result["r"], result["f"]) == pytest.approx(recount(pairs, metric))


def test_untyped_relation_sides_match_whether_none_or_entity():
    """Readers write "entity" for untyped heads/tails, the component writes None."""
    from spacy_knowcoder.evaluation.metrics import re_strict

    text = "The company fabricates plastic chairs."
    gold = {"id": "1", "text": text, "entities": [], "events": [], "relations": [
        {"label": "product of", "head": {"start": 31, "end": 37, "text": "chairs", "label": "entity"},
         "tail": {"start": 4, "end": 11, "text": "company", "label": "entity"}}]}
    pred = {**gold, "relations": [
        {"label": "product of", "head": {"start": 31, "end": 37, "text": "chairs", "label": None},
         "tail": {"start": 4, "end": 11, "text": "company", "label": None}}]}
    typed = {**gold, "relations": [
        {"label": "product of", "head": {"start": 31, "end": 37, "text": "chairs", "label": "product"},
         "tail": {"start": 4, "end": 11, "text": "company", "label": None}}]}
    assert re_strict(gold) == re_strict(pred)
    assert re_strict(gold) != re_strict(typed)
