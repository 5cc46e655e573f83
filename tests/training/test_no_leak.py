"""Nothing of a held-out dataset reaches the training data (real data in ../shared/data).

The held-out sets (catalog flag ``held_out``) measure transfer to unseen
schemas, so no sentence of theirs, in any split, may reach an SFT prompt or a
pretraining document. The tests build real training data with
``build_training_data`` and check

(a) the ``dataset`` of every SFT sample and the ``source`` of every pretraining
    document: never a held-out set, even when the settings ask for one;
(b) the text: no sentence of any split of a held-out set occurs in any SFT
    prompt or response or pretraining document.

Sentences are compared after lowercasing and dropping everything but letters
and digits, so tokenization (``U.S .`` vs ``U.S.``) and Python quoting
(``\\"``) cannot hide a copy. A normalized text of at least ``MIN_CHARS``
characters must not occur anywhere in a training document; a shorter one
(headings such as "Background", "1 .", one-word tweets, which every corpus
shares) must not be the whole sentence of a training sample.

The held-out list is pinned here (``EXPECTED_HELD_OUT``): flipping a flag in
the catalog fails ``test_held_out_flags_are_pinned`` and, because the build
below asks for every held-out set on purpose, lets that set's data arrive and
fails (a) and (b) too. ``test_the_checks_see_a_set_that_is_trained_on`` shows
that they do: a build that holds out all sets but one must be caught by both.
"""
import bisect
import json
import re
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import pytest

from spacy_knowcoder.corpora.catalog import CATALOG, HELD_OUT_LANGUAGES, read_dataset
from training.data import DataSettings, build_training_data
from training.data.build import sft_sources
from training.data.settings import HELD_OUT

REPO = Path(__file__).resolve().parents[2]
EXPECTED_HELD_OUT = ("wnut17", "gum", "re3d", "anem", "bionlp13cg", "semeval2010_task8",
                     "wikievents", "universal_ner_pt", "universal_ner_sv", "conll2002_nl",
                     "weibo_ner", "relx_distant_tr")
LANGUAGES = tuple(sorted({info.language for info in CATALOG.values()}))
# Training sets from the held-out sets' domains, so an overlap would show:
# tweets (wnut17), Wikipedia (gum, re3d), PubMed (anem, bionlp13cg),
# relations (semeval2010_task8), events (wikievents); Pile-NER passages come
# from the Pile (Wikipedia, PubMed, web text), so all of them are checked.
# The held-out languages' neighbours: Danish (Swedish), Spanish (Portuguese,
# Dutch), Chinese resumes (Weibo), German RELX (Turkish RELX).
NEIGHBOURS = ("broad_twitter_corpus", "wikigold", "bc5cdr", "fewrel", "geneva",
              "pile_ner_types", "universal_ner_da", "conll2002_es", "resume_ner",
              "relx_distant_de")
# The build asks for every held-out set too, in every language: the builder
# must drop them.
ASKED = DataSettings(languages=LANGUAGES, sft_datasets=NEIGHBOURS + EXPECTED_HELD_OUT,
                     instance_datasets=("fewrel", "geneva") + EXPECTED_HELD_OUT,
                     sft_per_dataset_task=25, instances_per_dataset=10, definition_docs=10,
                     eval_limit=2, dataset_caps=("pile_ner_types:0",), chunk_chars=600,
                     max_text_chars=0, max_sample_chars=0)
MIN_CHARS = 25
_NOT_ALNUM = re.compile(r"[\W_]+")
_SENTENCE_LINE = re.compile(r"^sentence = (.*)$", re.M)
# WikiEvents arguments outside their trigger's sentence (W250) do not matter here.
pytestmark = pytest.mark.filterwarnings("ignore:.*W250:UserWarning")

Hit = Tuple[str, str, str, str]  # held-out dataset, split, its text, training document


def normalize(text: str) -> str:
    """Lowercased letters and digits only (quoting and token spacing removed)."""
    return _NOT_ALNUM.sub("", text.lower())


class TrainingTexts:
    """The training documents, normalized and indexed for substring look-ups."""

    def __init__(self, documents: Sequence[Tuple[str, str]]):
        self.origins = [origin for origin, _ in documents]
        parts = [normalize(text) for _, text in documents]
        self.starts: List[int] = []
        offset = 0
        for part in parts:
            self.starts.append(offset)
            offset += len(part) + 1
        self.blob = "|".join(parts)
        self.windows = {self.blob[i:i + MIN_CHARS]
                        for i in range(len(self.blob) - MIN_CHARS + 1)}
        self.sentences: Dict[str, str] = {}
        for origin, text in documents:
            for literal in _SENTENCE_LINE.findall(text):
                self.sentences.setdefault(normalize(literal), origin)

    def find(self, text: str) -> "str | None":
        """The origin of a training document holding ``text``, or None."""
        key = normalize(text)
        if not key:
            return None
        if len(key) < MIN_CHARS:
            return self.sentences.get(key)
        if key[:MIN_CHARS] not in self.windows:
            return None
        pos = self.blob.find(key)
        if pos < 0:
            return None
        return self.origins[bisect.bisect_right(self.starts, pos) - 1]


def _rows(path: Path) -> List[Dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _documents(out: Path) -> Tuple[List[Dict[str, object]], List[Dict[str, object]]]:
    return _rows(out / "sft.jsonl"), _rows(out / "pretrain.jsonl")


def _training_texts(sft: Iterable[Dict[str, object]],
                    pretrain: Iterable[Dict[str, object]]) -> TrainingTexts:
    docs = [(f"sft:{r['dataset']}:{r['task']}", f"{r['prompt']}\n{r['response']}") for r in sft]
    docs += [(f"pretrain:{r['source']}:{r['kind']}", str(r["text"])) for r in pretrain]
    return TrainingTexts(docs)


def _leaks(index: TrainingTexts, heldout: Dict[str, List[Tuple[str, str]]]) -> List[Hit]:
    hits = []
    for name, texts in heldout.items():
        for split, text in texts:
            origin = index.find(text)
            if origin is not None:
                hits.append((name, split, text, origin))
    return hits


def _describe(hits: Sequence[Hit]) -> str:
    counts: Dict[str, int] = {}
    for name, split, _, origin in hits:
        key = f"{name} -> {origin.split(':')[1]}"
        counts[key] = counts.get(key, 0) + 1
    examples = "\n".join(f"  {n}/{s}: {t[:100]!r} in {o}" for n, s, t, o in hits[:8])
    return f"{len(hits)} held-out sentence(s) in training data {counts}:\n{examples}"


@pytest.fixture(scope="module")
def heldout_texts(data_root) -> Dict[str, List[Tuple[str, str]]]:
    """(split, text) of every record of every split of every held-out set."""
    return {name: [(split, r["text"]) for split in CATALOG[name].splits
                   for r in read_dataset(name, split, data_root)]
            for name in EXPECTED_HELD_OUT}


@pytest.fixture(scope="module")
def built(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("no-leak")
    build_training_data(ASKED, data_root, out)
    return out


def test_held_out_flags_are_pinned():
    assert HELD_OUT == EXPECTED_HELD_OUT
    flagged = [name for name, info in CATALOG.items() if info.held_out]
    assert flagged == list(EXPECTED_HELD_OUT)
    for name in EXPECTED_HELD_OUT:
        assert CATALOG[name].note, f"{name}: the catalog should say why it is held out"


@pytest.mark.parametrize("config", ["default.cfg", "gpu.cfg"])
def test_shipped_settings_hold_out_every_set(config):
    from training.config import load_config

    cfg = load_config(REPO / "training" / "configs" / config)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.data.items()}
    for settings in (DataSettings(), DataSettings(**values), DataSettings.gpu(**values)):
        assert set(EXPECTED_HELD_OUT) <= set(settings.held_out)
        sources = sft_sources(settings)
        assert not set(sources) & set(EXPECTED_HELD_OUT)
        assert sources == [n for n, info in CATALOG.items()
                           if n not in EXPECTED_HELD_OUT and info.language == "en"]
        everywhere = sft_sources(DataSettings(**dict(values, languages=LANGUAGES)))
        assert not set(everywhere) & set(EXPECTED_HELD_OUT)
        assert not {CATALOG[n].language for n in everywhere} & set(HELD_OUT_LANGUAGES)
        assert {CATALOG[n].language for n in everywhere} == set(LANGUAGES) - set(
            HELD_OUT_LANGUAGES)
        assert not set(settings.instance_datasets) & set(EXPECTED_HELD_OUT)


def test_no_training_sample_comes_from_a_held_out_set(built):
    sft, pretrain = _documents(built)
    datasets = {r["dataset"] for r in sft}
    sources = {r["source"] for r in pretrain}
    assert not datasets & set(EXPECTED_HELD_OUT), datasets
    assert not sources & set(EXPECTED_HELD_OUT), sources
    # the build did produce data, from exactly the sets that may be trained on
    assert datasets == set(NEIGHBOURS)
    assert sources == {"fewrel", "geneva", "schema_library"}
    manifest = json.loads((built / "heldout" / "manifest.json").read_text(encoding="utf-8"))
    assert [m["dataset"] for m in manifest] == list(EXPECTED_HELD_OUT)


def test_no_held_out_sentence_occurs_in_training_text(built, heldout_texts):
    sft, pretrain = _documents(built)
    assert len(sft) > 100 and len(pretrain) > 20
    index = _training_texts(sft, pretrain)
    assert all(heldout_texts.values())
    hits = _leaks(index, heldout_texts)
    assert not hits, _describe(hits)


@pytest.mark.parametrize("name", EXPECTED_HELD_OUT)
def test_the_checks_see_a_set_that_is_trained_on(name, data_root, heldout_texts, tmp_path):
    """Hold out every set but ``name``: (a) and (b) must both see its data arrive."""
    flipped = DataSettings(held_out=tuple(n for n in EXPECTED_HELD_OUT if n != name),
                           sft_datasets=(name,), instance_datasets=(name,),
                           sft_per_dataset_task=5, instances_per_dataset=5, definition_docs=1,
                           eval_limit=1)
    build_training_data(flipped, data_root, tmp_path)
    sft, pretrain = _documents(tmp_path)
    assert {r["dataset"] for r in sft} == {name}
    assert name in {r["source"] for r in pretrain}
    hits = _leaks(_training_texts(sft, pretrain), heldout_texts)
    assert {n for n, _, _, _ in hits} == {name}
    assert len(hits) >= 5


def test_held_out_event_ontology_is_not_in_the_training_data(data_root, tmp_path):
    """What `spacy project run build-schema build-data` does, with every definition kept."""
    from spacy_knowcoder.corpora.readers.jsonfiles import read_json
    from spacy_knowcoder.schema.builders.events import kairos_events
    from spacy_knowcoder.schema.builders.shared_data import build_from_shared_data

    library, _ = build_from_shared_data(data_root)
    settings = DataSettings(sft_datasets=("geneva",), instance_datasets=("geneva",),
                            sft_per_dataset_task=5, instances_per_dataset=5,
                            definition_docs=0, eval_limit=1)
    build_training_data(settings, data_root, tmp_path, schema_library=library)
    sft, pretrain = _documents(tmp_path)
    texts = normalize("\n".join([str(r["prompt"]) for r in sft] +
                                [str(r["text"]) for r in pretrain]))
    ontology = kairos_events(read_json(data_root / "wikievents" / "event_role_KAIROS.json"))
    fingerprints = {c.label: normalize(c.description) for c in ontology
                    if len(normalize(c.description)) >= MIN_CHARS}
    assert len(fingerprints) > 40
    found = sorted(label for label, key in fingerprints.items() if key in texts)
    assert not found, f"{len(found)} KAIROS (WikiEvents) event classes in training: {found[:5]}"


# --- development sets: tuning data that is neither trained on nor held out ------


def test_dev_sets_are_untrained_splits_of_training_sets(built):
    """``dev/`` (where inference settings such as ``close_penalty`` are chosen)
    holds only the evaluation split of a set the build trains on, a split the
    build does not train on, and never a held-out set."""
    from training.data.build import dev_sources, training_splits

    manifest = json.loads((built / "dev" / "manifest.json").read_text(encoding="utf-8"))
    names = [m["dataset"] for m in manifest]
    assert names == dev_sources(ASKED) and names, names
    assert not set(names) & set(EXPECTED_HELD_OUT)
    trained = {r["dataset"] for r in _rows(built / "sft.jsonl")}
    for entry in manifest:
        assert entry["dataset"] in trained
        assert entry["split"] not in training_splits(entry["dataset"], ASKED)
    for config in ("long.cfg", "multilingual.cfg"):
        from training.config import load_config

        cfg = load_config(REPO / "training" / "configs" / config)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.data.items()}
        settings = DataSettings(**values)
        for name in dev_sources(settings):
            assert name not in EXPECTED_HELD_OUT
            assert CATALOG[name].eval_split not in training_splits(name, settings)


def test_no_dev_sentence_occurs_in_training_text(built):
    """The dev records' texts are not in any SFT sample: tuning on them is tuning on
    unseen data."""
    sft, _ = _documents(built)
    index = _training_texts(sft, [])
    dev = {}
    for entry in json.loads((built / "dev" / "manifest.json").read_text(encoding="utf-8")):
        dev[entry["dataset"]] = [(entry["split"], r["text"])
                                 for r in _rows(built / "dev" / entry["file"])]
    assert sum(len(texts) for texts in dev.values()) >= 10
    hits = _leaks(index, dev)
    assert not hits, _describe(hits)
