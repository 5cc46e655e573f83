"""Readers for the raw IE datasets, a dataset catalog and conversion to benchmark JSONL.

Example:
    >>> from spacy_knowcoder.corpora import get_dataset
    >>> get_dataset("semeval2010_task8").tasks
    ('re',)
"""
from .catalog import CATALOG, DatasetInfo, get_dataset, label_file, read_dataset
from .convert import convert
from .records import Record, bio_spans, join_tokens

__all__ = ["CATALOG", "DatasetInfo", "Record", "bio_spans", "convert", "get_dataset",
           "join_tokens", "label_file", "read_dataset"]
