"""Annotation on many machines, on engines users already run.

- ``ray_data``: ``annotate_with_ray`` runs ``knowcoder annotate``'s sharded,
  resumable annotation as a Ray Data pipeline over an actor pool of pipelines
  (the ``ray`` extra). Spark users call the same shard function from a pandas
  UDF (docs/annotation.md).

Example:
    >>> from spacy_knowcoder.distributed import annotate_with_ray
    >>> manifest = annotate_with_ray("my_pipeline", "corpus.jsonl", "out/")  # doctest: +SKIP
"""
from .ray_data import annotate_with_ray

__all__ = ["annotate_with_ray"]
