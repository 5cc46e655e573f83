"""KnowCoder's two-phase training: data construction, DeepSpeed schema-understanding
pretraining, LoRA schema-following SFT and merging (DESIGN §7).

Run as ``python -m training --help``. This package imports ``spacy_knowcoder``;
the plugin never imports it.
"""
