"""Corpus-scale annotation: read a corpus, annotate it into resumable DocBin shards.

- ``inputs``: the documents of JSONL, DocBin and plain-text files (a file or a
  folder), with ids and metadata, and what could not be read;
- ``shards``: ``annotate_corpus`` (``knowcoder annotate``) writes shards of N docs
  and a manifest, and a second run after a kill goes on where it stopped;
  ``annotate_shard`` is the unit every runner calls (here, on Ray actors in
  ``spacy_knowcoder.distributed``, in a Spark pandas UDF).

Example:
    >>> from spacy_knowcoder.annotate import annotate_corpus, read_shards
    >>> manifest = annotate_corpus(nlp, "corpus.jsonl", "out/")  # doctest: +SKIP
"""
from .inputs import BadInput, InputDoc, read_inputs
from .shards import MANIFEST, annotate_corpus, annotate_shard, read_shards, shard_name

__all__ = ["BadInput", "InputDoc", "MANIFEST", "annotate_corpus", "annotate_shard",
           "read_inputs", "read_shards", "shard_name"]
