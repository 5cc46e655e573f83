"""Tests of the generator protocol helpers and the transformers backend."""
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spacy_knowcoder.generation import (
    GenerationSettings,
    Generator,
    HFGenerator,
    find_list_end,
    list_is_closed,
    open_results_prefix,
    resolve_model_source,
    truncate_completion,
)

SYSTEM = (
    "You are a highly skilled assistant at digesting and extracting information "
    "from textual content. Below is an input containing standard type definitions "
    "and textual content. Please complete it with the extracted information in the "
    "form of structured code."
)
CLASSES = '''class Entity:
    """
    The base class for all entities.
    """
    def __init__(self, name: str):
        self.name = name

class Person(Entity):
    """
    Description: A human being.
    Examples: Barack Obama, Marie Curie
    """
    pass

class City(Entity):
    """
    Description: A large town.
    Examples: Chicago, Paris
    """
    pass
'''
INSTRUCTION = (
    '"""\nThis is an object-oriented programming task: some Entity Classes are '
    "defined above. Please instantiate all the corresponding Entity Objects in the "
    'following sentence.\n"""'
)
SENTENCES = [
    "Barack Obama was born in Honolulu.",
    "Marie Curie moved from Warsaw to Paris to study physics and chemistry at the "
    "Sorbonne with Pierre Curie.",
    "Hi, Anna.",
]


def make_prompt(sentence: str, answer_start: str = "") -> str:
    return f'{SYSTEM}\nInput:\n{CLASSES}\n{INSTRUCTION}\nsentence = "{sentence}"\nOutput:\n{answer_start}'


# --- list_is_closed and friends -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "results = []",
        'results = [\n\tPerson("Barack Obama"),\n\tCity("Chicago")\n]',
        'results = [Person("a ] b")]',
        "results = [Person('it\\'s ]')]",
        'results = [Person("say \\"]\\" now")]',
        'results = [Person("back\\\\"), City("x")]',
        "results = [[1, [2]], (3, {4: [5]})]",
        'results = [\n\tPerson("a"),  # a comment with ] in it\n]',
        'x = 1\n  results=[City("Paris")] trailing',
        'results = [Person("unterminated\n)]',
        'results = [LocatedIn(Entity("Kurush"), Entity("Dokuzparinsky District"))]',
        'results = [Education(trigger = "student", institution = [Entity("AUB")])]',
    ],
)
def test_list_is_closed_true(text: str) -> None:
    assert list_is_closed(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "results = [",
        'results = [\n\tPerson("Barack Obama")\n',
        'results = [Person("a ] b")',
        'results = [Person("say \\"]\\"',
        "results = [[1, 2]",
        'results = [\n\tPerson("a"),  # ] only in a comment\n',
        "results = [Person('x ]",
        'print("results = []")',
        "my_results = []",
        "results == []",
        "results = ()",
    ],
)
def test_list_is_closed_false(text: str) -> None:
    assert not list_is_closed(text)


def test_find_list_end_offset() -> None:
    text = 'results = [\n\tPerson("]")\n]\n"""next'
    end = find_list_end(text)
    assert end is not None and text[:end].endswith("\n]")


@given(st.lists(st.text(max_size=12), max_size=5))
def test_list_closes_exactly_at_end(names) -> None:
    # repr() writes valid Python string literals, with quotes and escapes.
    text = "results = [" + ", ".join(f"Person({name!r})" for name in names) + "]"
    assert find_list_end(text) == len(text)
    assert not any(list_is_closed(text[:cut]) for cut in range(len(text)))


def test_open_results_prefix() -> None:
    prompt = make_prompt("A.", 'results = [\n\tPerson("Barack Obama")\n')
    assert open_results_prefix(prompt) == 'results = [\n\tPerson("Barack Obama")\n'
    assert open_results_prefix(make_prompt("A.")) == ""
    closed_example = make_prompt("A.").replace("Output:\n", "Output:\nresults = []\n")
    assert open_results_prefix(closed_example) == ""


def test_truncate_completion() -> None:
    assert truncate_completion('results = [\n\tCity("a")\n]\n\nfor x') == (
        'results = [\n\tCity("a")\n]',
        True,
    )
    assert truncate_completion("]\nmore", prefix="results = [\n") == ("]", True)
    assert truncate_completion('results = [\n"""doc') == ("results = [\n", True)
    assert truncate_completion("results = [\n\tCity(") == ("results = [\n\tCity(", False)


# --- settings and model sources --------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("max_new_tokens", 0),
        ("max_new_tokens", "5"),
        ("batch_size", -1),
        ("batch_size", True),
        ("device", "gpu"),
        ("device", "cuda:x"),
        ("dtype", "float64"),
        ("stop_at_list_end", "yes"),
    ],
)
def test_settings_validation_names_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=r"\[E104\].*" + field):
        GenerationSettings(**{field: value})


def test_settings_accept_valid_values() -> None:
    settings = GenerationSettings(device="cuda:1", dtype="bfloat16", batch_size=1)
    assert settings.device == "cuda:1"


@pytest.mark.parametrize(
    "name", ["./nope", "/no/such/model", "~/no-such-model", "nope.gguf", "a/b/c", "bad name"]
)
def test_missing_local_path_is_e100(name: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"\[E100\].*prepare-model"):
        resolve_model_source(name)


def test_missing_dir_under_existing_parent_is_e100(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    with pytest.raises(FileNotFoundError, match=r"\[E100\]"):
        resolve_model_source("models/smollm2-135m")


def test_hub_id_is_not_a_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_model_source("golaxy/KnowCoder-7B-base").kind == "hub"


def test_generator_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"\[E100\]"):
        HFGenerator(tmp_path / "missing")


def test_dir_without_config_is_e101(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(ValueError, match=r"\[E101\].*weights.bin"):
        HFGenerator(tmp_path)


def test_other_file_is_e102(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"\[E102\]"):
        resolve_model_source(path)


# --- real generation ---------------------------------------------------------


@pytest.mark.model
def test_generator_protocol_and_sizes(hf_generator: HFGenerator) -> None:
    assert isinstance(hf_generator, Generator)
    assert hf_generator.max_context == 8192
    assert hf_generator.count_tokens("Hello world") == len(hf_generator.encode("Hello world"))
    assert hf_generator.tokenizer.padding_side == "left"


@pytest.mark.model
def test_single_string_is_e109(hf_generator: HFGenerator) -> None:
    with pytest.raises(TypeError, match=r"\[E109\]"):
        hf_generator.generate("results = [")


@pytest.mark.model
def test_prompt_over_context_is_e105(hf_generator: HFGenerator) -> None:
    with pytest.raises(ValueError, match=r"\[E105\]"):
        hf_generator.generate(["word " * 9000])


@pytest.mark.model
def test_new_token_budget_is_capped(hf_generator: HFGenerator) -> None:
    with pytest.warns(UserWarning, match=r"\[W100\]"):
        assert hf_generator._new_token_budget(8190) == 2
    assert hf_generator._new_token_budget(100) == 24


@pytest.mark.model
def test_batch_equals_single_in_input_order(hf_generator: HFGenerator) -> None:
    prompts = [make_prompt(s, "results = [\n") for s in SENTENCES]
    lengths = [hf_generator.count_tokens(p) for p in prompts]
    assert len(set(lengths)) == 3 and lengths != sorted(lengths, reverse=True)
    batched = hf_generator.generate(prompts)
    singles = [hf_generator.generate([p])[0] for p in prompts]
    assert batched == singles
    assert len(set(batched)) == 3  # distinct, so the order check means something
    assert hf_generator.generate([]) == []


@pytest.mark.model
def test_stops_when_list_closes(hf_generator: HFGenerator) -> None:
    prompt = make_prompt(SENTENCES[0], 'results = [\n\tPerson("Barack Obama")\n')
    completion = hf_generator.generate([prompt])[0]
    assert completion.endswith("]")
    assert list_is_closed(open_results_prefix(prompt) + completion)
    n_new = len(hf_generator.tokenizer(completion, add_special_tokens=False)["input_ids"])
    assert n_new < hf_generator.settings.max_new_tokens
    # Per-row stopping: in a batch with a row that runs on, the result is the same.
    other = make_prompt(SENTENCES[1], "results = [\n")
    assert hf_generator.generate([prompt, other])[0] == completion
    free = HFGenerator.from_objects(
        hf_generator.model,
        hf_generator.tokenizer,
        GenerationSettings(max_new_tokens=24, stop_at_list_end=False),
    )
    unstopped = free.generate([prompt])[0]
    assert unstopped.startswith(completion) and len(unstopped) > len(completion)


@pytest.mark.model
def test_gguf_file_loads_like_converted_dir(
    smollm2_gguf: Path, hf_generator: HFGenerator
) -> None:
    settings = GenerationSettings(max_new_tokens=8)
    from_gguf = HFGenerator(smollm2_gguf, settings)
    from_dir = HFGenerator.from_objects(hf_generator.model, hf_generator.tokenizer, settings)
    prompt = make_prompt(SENTENCES[0], "results = [\n")
    assert type(from_gguf.model).__name__ == "LlamaForCausalLM"
    assert from_gguf.encode(prompt) == from_dir.encode(prompt)
    assert from_gguf.generate([prompt]) == from_dir.generate([prompt])


@pytest.mark.model
def test_empty_prompt_generates(hf_generator: HFGenerator) -> None:
    free = HFGenerator.from_objects(
        hf_generator.model, hf_generator.tokenizer, GenerationSettings(max_new_tokens=2)
    )
    assert hf_generator.count_tokens("") == 0
    assert len(free.generate([""])) == 1


def test_the_head_reads_a_contiguous_copy_with_the_same_logits(hf_generator: HFGenerator) -> None:
    """``contiguous_head_input`` (hooked in by every generator): the head gets a
    contiguous tensor when the model keeps the last of several positions, and the
    logits match those of the whole sequence; a second call adds no hook."""
    import torch

    from spacy_knowcoder.generation.hf import contiguous_head_input

    model = hf_generator.model
    head = model.get_output_embeddings()
    hooks = len(head._forward_pre_hooks)
    contiguous_head_input(model)
    assert len(head._forward_pre_hooks) == hooks >= 1
    seen = []
    probe = head.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    try:
        with torch.inference_mode():
            kept = model(input_ids=ids, logits_to_keep=1).logits[:, -1]
            full = model(input_ids=ids).logits[:, -1]
    finally:
        probe.remove()
    assert seen[0].is_contiguous() and seen[0].shape[1] == 1
    assert torch.allclose(kept, full, atol=1e-4, rtol=1e-4)
