"""Build script. Metadata, dependencies and entry points are in setup.cfg.

The training package lives in the repository's top-level ``training/`` folder
(``python -m training`` there), but a wheel installs it as
``spacy_knowcoder.training``, so it never takes the global name ``training``
from a user's own code; its profiles (``configs/``) go with it.
"""
from setuptools import find_packages, setup

TRAINING = ["spacy_knowcoder.training"] + [
    f"spacy_knowcoder.training.{name}" for name in find_packages("training")]

setup(packages=find_packages(include=["spacy_knowcoder", "spacy_knowcoder.*"]) + TRAINING,
      package_dir={"spacy_knowcoder.training": "training"})
