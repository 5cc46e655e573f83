"""The examples in the docstrings of every package module run as written.

Examples that need a model or data are marked ``# doctest: +SKIP`` where they
are written; everything else must run.
"""
import doctest
import importlib
import pkgutil

import pytest

import spacy_knowcoder

MODULES = sorted(m.name for m in pkgutil.walk_packages(spacy_knowcoder.__path__,
                                                          prefix="spacy_knowcoder.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0
