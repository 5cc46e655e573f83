"""Re-DocRED (``dev_revised.json``, ``test_revised.json``): one record per sentence.

A document has ``sents`` (token lists), ``vertexSet`` (entities, each a list
of mentions with ``pos``, ``sent_id`` and ``type``) and ``labels`` (relations
between entities with evidence sentences). A sentence record keeps every
mention in it (with natural entity labels) and each relation whose head and
tail are both mentioned in the sentence and whose evidence names it (or is
empty). Cross-sentence relations are left out: they have no single-sentence
text to extract them from.

Example:
    >>> import tempfile, pathlib, json
    >>> doc = {"title": "T", "sents": [["Ann", "lives", "in", "Rome", "."]],
    ...        "vertexSet": [[{"pos": [0, 1], "sent_id": 0, "type": "PER", "name": "Ann"}],
    ...                      [{"pos": [3, 4], "sent_id": 0, "type": "LOC", "name": "Rome"}]],
    ...        "labels": [{"r": "P551", "h": 0, "t": 1, "evidence": [0]}]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.json"
    >>> _ = path.write_text(json.dumps([doc]), encoding="utf-8")
    >>> maps = {"PER": "person", "LOC": "location", "P551": "residence"}
    >>> record = next(read_re_docred(path, maps))
    >>> record["relations"][0]["label"], record["relations"][0]["tail"]["text"]
    ('residence', 'Rome')
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from ...errors import Errors
from ..records import Record, join_tokens, make_record, mention, token_span_offsets
from .jsonfiles import read_json


def read_re_docred(path: Path, label_map: Mapping[str, str], *,
                   dataset: str = "re_docred") -> Iterator[Record]:
    """Yield one record per sentence of every document.

    label_map (Mapping[str, str]): Entity types (PER, ...) and relation
        P-ids -> natural labels.
    """
    docs = read_json(path, expected="a JSON list of DocRED documents")
    if not isinstance(docs, list):
        raise ValueError(Errors.E250.format(path=path, line=1, reason="the top level is "
                                            "not a list", expected="a list of documents"))
    for index, doc in enumerate(docs):
        yield from _doc_records(path, index, doc, label_map, dataset)


def _doc_records(path: Path, index: int, doc: Any, label_map: Mapping[str, str],
                 dataset: str) -> Iterator[Record]:
    where = f"document {index}"
    if not isinstance(doc, dict) or not all(k in doc for k in ("sents", "vertexSet")):
        raise ValueError(Errors.E250.format(path=path, line=where, reason="a document "
                                            "lacks 'sents' or 'vertexSet'",
                                            expected="DocRED keys sents, vertexSet, labels"))
    for sent_id, tokens in enumerate(doc["sents"]):
        text, offsets = join_tokens(tokens)
        firsts: Dict[int, Dict[str, Any]] = {}
        entities = []
        for entity_id, mentions in enumerate(doc["vertexSet"]):
            for item in mentions:
                if item.get("sent_id") != sent_id:
                    continue
                label = _label(path, where, item.get("type"), label_map, dataset)
                start, end = token_span_offsets(offsets, item["pos"][0], item["pos"][1])
                span = mention(text, start, end, label)
                entities.append(span)
                firsts.setdefault(entity_id, span)
        relations = [rel for rel in (_relation(path, where, lab, sent_id, firsts, label_map,
                                               dataset) for lab in doc.get("labels", []))
                     if rel is not None]
        yield make_record(f"{Path(path).stem}-{index}-{sent_id}", text, entities, relations)


def _relation(path: Path, where: str, lab: Dict[str, Any], sent_id: int,
              firsts: Dict[int, Dict[str, Any]], label_map: Mapping[str, str],
              dataset: str) -> Optional[Dict[str, Any]]:
    evidence: List[int] = lab.get("evidence") or []
    if lab["h"] not in firsts or lab["t"] not in firsts or (evidence and sent_id not in evidence):
        return None
    return {"head": dict(firsts[lab["h"]]), "tail": dict(firsts[lab["t"]]),
            "label": _label(path, where, lab["r"], label_map, dataset)}


def _label(path: Path, where: str, raw: Any, label_map: Mapping[str, str],
           dataset: str) -> str:
    if raw not in label_map:
        raise ValueError(Errors.E251.format(label=raw, path=path, line=where,
                                            dataset=dataset,
                                            known=", ".join(sorted(label_map))))
    return label_map[raw]
