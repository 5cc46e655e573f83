"""The examples in the docstrings of the model-free modules run as written."""
import doctest
import importlib

import pytest

MODULES = [
    "spacy_knowcoder.align", "spacy_knowcoder.errors", "spacy_knowcoder.extensions",
    "spacy_knowcoder.parsing", "spacy_knowcoder.prompting", "spacy_knowcoder.pycode",
    "spacy_knowcoder.schema.build", "spacy_knowcoder.schema.naming",
    "spacy_knowcoder.schema.render", "spacy_knowcoder.schema.source",
    "spacy_knowcoder.schema.types", "spacy_knowcoder.windows",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0
