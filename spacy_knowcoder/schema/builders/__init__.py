"""Builders that turn knowledge sources into a ``SchemaLibrary``.

One module per source: the Wikidata JSON dump (``wikidata_dump``), the DBpedia
ontology (``dbpedia``), Wikidata property lists and relation lists
(``properties``), the released KnowCoder-Schema-Library files (``released``),
event ontologies (``events``) and relation constraints from instance data
(``cooccurrence``); ``shared_data`` combines them for a local data folder.
"""
