"""The KnowCoder spacy-llm task without a model: registration, prompts, parsing edge cases."""
import json
import subprocess
import sys
import warnings

import pytest
import spacy
import srsly
from spacy.training import Example

from spacy_knowcoder.llm.task import make_knowcoder_task

from .chat_server import SCHEMA

EXAMPLE = {"text": "Ada Lovelace married William King in London.",
           "entities": [{"label": "person", "text": "Ada Lovelace"},
                        {"label": "city", "text": "London"}],
           "relations": [],
           "events": [{"type": "marriage", "trigger": {"text": "married"},
                       "arguments": [{"role": "spouse", "text": "William King"}]}]}


def test_task_and_models_resolve_by_name_in_a_fresh_interpreter():
    code = """
import sys, spacy
from spacy_llm.registry import registry
assert "spacy_knowcoder" not in sys.modules
task = registry.llm_tasks.get("spacy_knowcoder.KnowCoder.v1")
print(task.__module__, registry.llm_models.get("spacy_knowcoder.HF.v1").__module__,
      registry.llm_models.get("spacy_knowcoder.OpenAICompatible.v1").__module__)
config = spacy.util.load_config_from_str('''
[nlp]
lang = "en"
pipeline = ["llm"]
[components]
[components.llm]
factory = "llm"
[components.llm.task]
@llm_tasks = "spacy_knowcoder.KnowCoder.v1"
schema = {"entities": {"person": "A human being."}}
[components.llm.task.scorer]
@scorers = "spacy_knowcoder.scorer.v1"
[components.llm.model]
@llm_models = "spacy.NoOp.v1"
''')
nlp = spacy.util.load_model_from_config(config, auto_fill=True)
print(type(nlp.get_pipe("llm").task).__name__)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "spacy_knowcoder.llm.task spacy_knowcoder.llm.model spacy_knowcoder.llm.chat" in result.stdout
    assert "KnowCoderTask" in result.stdout


def test_prompts_are_the_knowcoder_prompts():
    task = make_knowcoder_task(schema=SCHEMA)
    doc = spacy.blank("en")("Ann met Bob.")
    prompts, shards = next(iter(task.generate_prompts([doc])))
    assert shards == [doc] and len(prompts) == 3  # ner, re, ed
    extractor_prompts = [j.prompt for t in ("ner", "re", "ed")
                         for j in task._extractor.jobs(t, [task._extractor.start(doc, [doc[:]])])]
    assert prompts == extractor_prompts


def test_ed_and_eae_in_one_task_is_refused():
    with pytest.raises(ValueError, match="E350"):
        make_knowcoder_task(schema=SCHEMA, tasks=["ed", "eae"])
    with pytest.raises(ValueError, match="E014"):
        make_knowcoder_task()


def test_one_plan_serves_the_prompts_and_the_parsing(monkeypatch):
    """generate_prompts plans each doc's jobs; parse_responses uses that plan for the
    same shards and plans again only for shards it has not seen."""
    import spacy

    nlp = spacy.blank("en")
    task = make_knowcoder_task(schema=SCHEMA, tasks=["ner"])
    planned = []
    plan = task._plan
    monkeypatch.setattr(task, "_plan", lambda shards: planned.append(len(shards)) or plan(shards))
    docs = [nlp("Ann met Bob."), nlp("Bob left.")]
    shards = [s for _, s in task.generate_prompts(docs)]
    assert planned == [1, 1]
    done = list(task.parse_responses(shards, [['results = [\n\tPerson("Ann")\n]'],
                                              ['results = [\n\tPerson("Bob")\n]']]))
    assert planned == [1, 1]  # no second planning
    assert [[e.text for e in d.ents] for d in done] == [["Ann"], ["Bob"]]
    other = [nlp("Ann met Bob.")]
    (again,) = task.parse_responses([other], [['results = [\n\tPerson("Ann")\n]']])
    assert planned == [1, 1, 1] and [e.text for e in again.ents] == ["Ann"]


def test_few_shot_examples_from_a_file(tmp_path):
    path = tmp_path / "examples.jsonl"
    srsly.write_jsonl(path, [EXAMPLE])
    reader = spacy.registry.misc.get("spacy.FewShotReader.v1")(path)
    task = make_knowcoder_task(schema=SCHEMA, examples=reader, tasks=["ner", "ed"])
    doc = spacy.blank("en")("Barack Obama married Michelle Robinson.")
    ner, ed = next(iter(task.generate_prompts([doc])))[0]
    assert ner.count("Input:\n") == 2 and ner.index("Ada Lovelace") < ner.index("Barack Obama")
    assert 'Output:\nresults = [\n\tPerson("Ada Lovelace"),\n\tCity("London")\n]\nInput:\n' in ner
    assert 'Output:\nresults = [\n\tMarriage("married")\n]\nInput:\n' in ed
    eae = make_knowcoder_task(schema=SCHEMA, examples=reader, tasks=["eae"])
    exchange = eae._exchanges("eae", eae.schema)[0]
    assert 'Marriage(trigger = "married", spouse = [Entity("William King")])' in exchange
    assert '"married" is the trigger of event type "Marriage"' in exchange
    with pytest.raises(ValueError, match="E351"):
        make_knowcoder_task(schema=SCHEMA, examples=lambda: [{"text": "x", "entities": [
            {"label": "planet", "text": "x"}]}])


def test_scripted_edge_cases_warn_and_keep_partial_results():
    task = make_knowcoder_task(schema={"entities": SCHEMA["entities"]})
    nlp = spacy.blank("en")
    docs = [nlp("Ann lives in Rome."), nlp("Bob lives in Paris.")]
    shards = [list(s) for _, s in task.generate_prompts(docs)]
    answers = [["Here you go:\n```\nresults = [\n\tPerson(\"Ann\"),\n\tPlanet(\"Rome\")\n]\n```"],
               []]  # a model that dropped the prompt
    with pytest.warns(UserWarning) as record:
        out = list(task.parse_responses(shards, answers))
    assert [(e.text, e.label_) for e in out[0].ents] == [("Ann", "person")]
    assert out[1].ents == ()
    assert any("[W350]" in str(w.message) for w in record)
    assert any("[W001]" in str(w.message) for w in record)


def test_bad_responses_of_one_call_give_one_w001():
    task = make_knowcoder_task(schema={"entities": SCHEMA["entities"]})
    nlp = spacy.blank("en")
    docs = [nlp(f"Ann lives in Rome ({i}).") for i in range(5)]
    shards = [list(s) for _, s in task.generate_prompts(docs)]
    answers = [['results = [\n\tPerson("Ann"),\n\tPlanet("Rome")\n]']] * 5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = list(task.parse_responses(shards, answers))
    w001 = [str(w.message) for w in caught if "[W001]" in str(w.message)]
    assert len(w001) == 1 and "Dropped 5 predicted items in 5 of 5 docs" in w001[0]
    assert [[e.text for e in doc.ents] for doc in out] == [["Ann"]] * 5


def test_task_serializes_with_the_pipeline(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("llm", config={"task": {"@llm_tasks": "spacy_knowcoder.KnowCoder.v1",
                                         "schema": SCHEMA, "examples": None},
                                "model": {"@llm_models": "spacy.NoOp.v1"}})
    task = nlp.get_pipe("llm").task
    task.from_bytes(make_knowcoder_task(schema=SCHEMA, examples=lambda: [EXAMPLE]).to_bytes())
    assert len(task.examples) == 1 and "Ada Lovelace" in task.prompt_template
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe").get_pipe("llm").task
    assert loaded.examples == task.examples and loaded.tasks == task.tasks
    assert json.dumps(loaded._cfg(), sort_keys=True) == json.dumps(task._cfg(), sort_keys=True)
    assert loaded.prompt_template == task.prompt_template


def test_scorer_is_score_knowcoder():
    task = make_knowcoder_task(schema=SCHEMA)
    nlp = spacy.blank("en")
    predicted = nlp("Ann lives in Rome.")
    predicted._.relations = [{"label": "born in", "head": {"start": 0, "end": 3, "text": "Ann",
                                                           "label": "person"},
                              "tail": {"start": 13, "end": 17, "text": "Rome", "label": "city"},
                              "score": None}]
    reference = nlp("Ann lives in Rome.")
    reference._.relations = predicted._.relations
    scores = task.scorer([Example(predicted, reference)])
    assert scores["rel_f"] == 1.0
