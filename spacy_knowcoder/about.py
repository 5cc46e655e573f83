__title__ = "spacy-knowcoder"
__version__ = "0.1.0"
