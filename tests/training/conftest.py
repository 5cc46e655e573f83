"""Fixtures for the training tests: a tiny random Llama and small JSONL files.

The model is built here from a LlamaConfig (hidden 32, 2 layers, tied
embeddings like SmolLM2) with SmolLM2's real tokenizer, so the tests exercise
real transformers, peft and DeepSpeed code in seconds.
"""
import json
import os
import random
from pathlib import Path
from typing import Any, Dict, List

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

NAMES = ["Barack Obama", "Michelle Robinson", "Angela Merkel", "Ada Lovelace", "Alan Turing",
         "Marie Curie", "Nelson Mandela", "Frida Kahlo"]
CITIES = ["Chicago", "Berlin", "London", "Paris", "Lagos", "Lima", "Oslo", "Kyoto"]
SYSTEM = ("You are a highly skilled assistant at digesting and extracting information from textual "
          "content. Below is an input containing standard type definitions and textual content. "
          "Please complete it with the extracted information in the form of structured code.")
CLASSES = ('class Person(Entity):\n\t"""\n\tDescription: A human being.\n\t"""\n\tpass\n\n'
           'class City(Entity):\n\t"""\n\tDescription: A large town.\n\t"""\n\tpass\n')


def sft_rows(n: int, seed: int = 0) -> List[Dict[str, Any]]:
    """KnowCoder-format NER rows (DESIGN §3) about people and cities."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name, city = rng.choice(NAMES), rng.choice(CITIES)
        sentence = f"{name} lives in {city}."
        query = (CLASSES + '\n"""\nThis is an object-oriented programming task: some Entity Classes '
                 'are defined above. Please instantiate all the corresponding Entity Objects in the '
                 f'following sentence.\n"""\nsentence = "{sentence}"')
        response = f'results = [\n\tPerson("{name}"),\n\tCity("{city}")\n]'
        rows.append({"prompt": f"{SYSTEM}\nInput:\n{query}\nOutput:\n", "response": response,
                     "task": "ner", "dataset": "toy"})
    return rows


def pretrain_rows(n: int, seed: int = 0) -> List[Dict[str, Any]]:
    """Schema definition and instance code documents."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        if i % 2:
            rows.append({"text": CLASSES, "kind": "definition", "source": "toy"})
        else:
            name, city = rng.choice(NAMES), rng.choice(CITIES)
            text = ("# Extract the entities from the following sentence.\n"
                    f'sentence = "{name} visited {city}."\nfrom Entities import Person, City\n'
                    f'results = [\n\tPerson("{name}"),\n\tCity("{city}")\n]')
            rows.append({"text": text, "kind": "instance", "source": "toy"})
    return rows


def clean_env() -> Dict[str, str]:
    """The environment for a training subprocess, without the distributed variables
    that an in-process run of another test set (a world of one on a bound port)."""
    skip = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}
    return {**{k: v for k, v in os.environ.items() if k not in skip}, "OMP_NUM_THREADS": "1"}


def write_rows(path: Path, rows: List[Dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, smollm2_dir) -> Path:
    """A random 2-layer Llama (tied embeddings) saved with SmolLM2's tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny") / "llama"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def training_data(tmp_path_factory) -> Dict[str, Path]:
    """Pretraining and SFT JSONL files in the data contract's format."""
    root = tmp_path_factory.mktemp("data")
    return {"pretrain": write_rows(root / "pretrain.jsonl", pretrain_rows(40)),
            "sft": write_rows(root / "sft.jsonl", sft_rows(32))}


def make_config(tmp: Path, model: Path, data: Dict[str, Path], **sections: Dict[str, Any]):
    """A TrainingConfig for the tiny model with fast settings plus overrides."""
    from training.config import build_config

    common = {"seq_length": 64, "micro_batch_size": 2, "gradient_accumulation": 1, "lr": 3e-3,
              "warmup_ratio": 0.0, "checkpoint_every": 0, "progress": False, "log_every": 1}
    raw = {
        "paths": {"base_model": str(model), "output_dir": str(tmp)},
        "pretrain": {**common, "model": str(model), "data": str(data["pretrain"]),
                     "output_dir": str(tmp / "pretrain"), "max_steps": 8, **sections.get("pretrain", {})},
        "sft": {**common, "model": str(model), "data": str(data["sft"]), "output_dir": str(tmp / "sft"),
                "max_steps": 8, "lora_r": 8, "lora_alpha": 16, "seq_length": 160,
                **sections.get("sft", {})},
        "merge": {"base_model": str(model), "adapter": str(tmp / "sft" / "adapter"),
                  "output_dir": str(tmp / "merged"), **sections.get("merge", {})},
    }
    return build_config(raw, source="test")


@pytest.fixture(scope="session")
def lora_run(tmp_path_factory, tiny_llama_dir, training_data) -> Dict[str, Any]:
    """A finished LoRA SFT run of the tiny model (shared by the SFT and merge tests)."""
    from training.sft import sft

    tmp = tmp_path_factory.mktemp("lora")
    cfg = make_config(tmp, tiny_llama_dir, training_data,
                      sft={"max_steps": 10, "micro_batch_size": 4, "lr": 1e-2})
    return {"cfg": cfg, "summary": sft(cfg), "tmp": tmp}
