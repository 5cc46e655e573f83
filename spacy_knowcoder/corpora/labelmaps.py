"""Raw dataset labels -> natural labels (the labels of the label files).

Static maps for the column datasets are written out here; the Wikidata
relation maps are read from the datasets' own property files
(``fewrel/pid2name.json``, ``re_docred/rel_info.json``).

Example:
    >>> CONLL["PER"], RE3D["MilitaryPlatform"]
    ('person', 'military platform')
"""
from pathlib import Path
from typing import Dict, Iterable, Mapping

from .records import natural_label
from .readers.jsonfiles import read_json

CONLL = {"PER": "person", "LOC": "location", "ORG": "organization", "MISC": "miscellaneous"}
BTC = {"PER": "person", "LOC": "location", "ORG": "organization"}
WNUT17 = {"person": "person", "location": "location", "corporation": "corporation",
          "product": "product", "creative-work": "creative work", "group": "group"}
GUM = {t: t for t in ("person", "place", "organization", "quantity", "time", "event",
                      "abstract", "substance", "object", "animal", "plant")}
RE3D = {"DocumentReference": "document reference", "Location": "location",
        "MilitaryPlatform": "military platform", "Money": "money",
        "Nationality": "nationality", "Organisation": "organisation", "Person": "person",
        "Quantity": "quantity", "Temporal": "temporal expression", "Weapon": "weapon"}
MULTICONER_SPECIAL = {
    "ORG": "organization", "OtherLOC": "other location", "OtherPER": "other person",
    "OtherPROD": "other product", "MusicalGRP": "musical group", "SportsGRP": "sports group",
    "Medication/Vaccine": "medication or vaccine", "PrivateCorp": "private corporation",
    "PublicCorp": "public corporation", "ArtWork": "artwork"}
MULTICONER_TYPES = (
    "AerospaceManufacturer", "AnatomicalStructure", "ArtWork", "Artist", "Athlete",
    "CarManufacturer", "Cleric", "Clothing", "Disease", "Drink", "Facility", "Food",
    "HumanSettlement", "MedicalProcedure", "Medication/Vaccine", "MusicalGRP", "MusicalWork",
    "ORG", "OtherLOC", "OtherPER", "OtherPROD", "Politician", "PrivateCorp", "PublicCorp",
    "Scientist", "Software", "SportsGRP", "SportsManager", "Station", "Symptom", "Vehicle",
    "VisualWork", "WrittenWork")
MULTICONER = {t: MULTICONER_SPECIAL.get(t, natural_label(t)) for t in MULTICONER_TYPES}
ANATOMY_TYPES = (
    "Anatomical_system", "Cell", "Cellular_component", "Developing_anatomical_structure",
    "Immaterial_anatomical_entity", "Multi-tissue_structure", "Organ",
    "Organism_subdivision", "Organism_substance", "Pathological_formation", "Tissue")
ANEM = {t: natural_label(t).replace("multi tissue", "multi-tissue") for t in ANATOMY_TYPES}
BIONLP13CG = dict(ANEM, **{t: natural_label(t) for t in (
    "Amino_acid", "Cancer", "Gene_or_gene_product", "Organism", "Simple_chemical")})
BC5CDR = {"Chemical": "chemical", "Disease": "disease"}
NCBI_DISEASE = {"Disease": "disease"}
BC2GM = {"GENE": "gene"}
BIONLP11ID = {"Chemical": "chemical", "Organism": "organism", "Protein": "protein",
              "Regulon-operon": "regulon or operon"}
LITBANK = {"PER": "person", "FAC": "facility", "GPE": "geopolitical entity",
           "LOC": "location", "VEH": "vehicle", "ORG": "organization"}
DOCRED_ENTITIES = {"PER": "person", "ORG": "organization", "LOC": "location",
                   "TIME": "time", "NUM": "number", "MISC": "miscellaneous"}
UNIVERSAL_NER = {"PER": "person", "LOC": "location", "ORG": "organization", "OTH": "other"}
CLUENER = {"address": "address", "book": "book", "company": "company", "game": "game",
           "government": "government body", "movie": "movie", "name": "person",
           "organization": "organization", "position": "position", "scene": "scenic spot"}
RESUME = {"CONT": "country", "EDU": "education", "LOC": "location", "NAME": "person",
          "ORG": "organization", "PRO": "profession", "RACE": "ethnicity",
          "TITLE": "job title"}
# Weibo NER's names only: nominal mentions ("" = not annotated) are left out.
WEIBO = dict({f"{raw}.NAM": label for raw, label in (
    ("PER", "person"), ("ORG", "organization"), ("LOC", "location"),
    ("GPE", "geopolitical entity"))}, **{f"{raw}.NOM": "" for raw in ("PER", "ORG", "LOC", "GPE")})
# FewFC's Chinese event types and their English class names (SOURCE.md).
FEWFC = {"质押": "pledge", "股份股权转让": "equity transfer", "投资": "investment",
         "减持": "share reduction", "起诉": "lawsuit", "收购": "acquisition", "判决": "judgment",
         "签署合同": "contract signing", "担保": "guarantee", "中标": "bid win"}
# SmartData's concept types (entities) and relation/event names.
SMARTDATA = dict({raw: natural_label(raw) for raw in (
    "date", "distance", "duration", "location", "number", "organization", "person", "time")},
    **{"disaster-type": "disaster type", "location-city": "city", "location-route": "route",
       "location-stop": "stop", "location-street": "street", "org-position": "position",
       "organization-company": "company"},
    **{raw: natural_label(raw) for raw in (
        "Accident", "Acquisition", "CanceledRoute", "CanceledStop", "Delay", "Disaster",
        "Insolvency", "Layoffs", "Merger", "Obstruction", "RailReplacementService", "SpinOff",
        "Strike", "TrafficJam")})
# RELX-Distant's Wikidata properties, with the English labels FewRel's
# pid2name.json and Re-DocRED's rel_info.json give them (one ontology).
RELX = {"P127": "owned by", "P131": "located in the administrative territorial entity",
        "P1376": "capital of", "P140": "religion", "P150": "contains administrative "
        "territorial entity", "P17": "country", "P171": "parent taxon", "P172": "ethnic group",
        "P175": "performer", "P176": "manufacturer", "P178": "developer", "P19": "place of birth",
        "P22": "father", "P25": "mother", "P26": "spouse", "P27": "country of citizenship",
        "P2936": "language used", "P30": "continent", "P31": "instance of", "P3373": "sibling",
        "P36": "capital", "P361": "part of", "P451": "partner", "P463": "member of",
        "P495": "country of origin", "P50": "author", "P674": "characters",
        "P749": "parent organization"}
SEMEVAL = {"Cause-Effect": "cause of", "Instrument-Agency": "instrument of",
           "Product-Producer": "product of", "Content-Container": "contained in",
           "Entity-Origin": "originates from", "Entity-Destination": "moved to",
           "Component-Whole": "part of", "Member-Collection": "member of",
           "Message-Topic": "is about"}


def pid2name_map(path: Path) -> Dict[str, str]:
    """FewRel's ``pid2name.json`` ({P-id: [label, description]}) -> {P-id: label}."""
    return {pid: value[0] for pid, value in read_json(path).items()}


def rel_info_map(path: Path) -> Dict[str, str]:
    """DocRED's ``rel_info.json`` ({P-id: label}) plus the entity types."""
    return dict(DOCRED_ENTITIES, **read_json(path))


def identity_map(labels: Iterable[str]) -> Mapping[str, str]:
    """Raw labels that are natural already (FewRel-pubmed names get spaces)."""
    return {label: natural_label(label) for label in labels}
