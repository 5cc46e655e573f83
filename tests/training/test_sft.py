"""Phase 2: LoRA (reference targets) and full fine-tuning under a DeepSpeed engine."""
import json
import shutil

import pytest

from training.sft import add_lora, sft

from .conftest import make_config


def test_lora_sft_lowers_the_response_loss(lora_run):
    summary, tmp = lora_run["summary"], lora_run["tmp"]
    rows = [json.loads(line) for line in (tmp / "sft" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows]
    assert len(losses) == 10 and sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.05
    assert 0 < summary["trainable_parameters"] < summary["parameters"] / 10
    adapter = json.loads((tmp / "sft" / "adapter" / "adapter_config.json").read_text())
    assert set(adapter["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj",
                                              "gate_proj", "up_proj", "down_proj"}
    assert adapter["r"] == 8 and adapter["lora_dropout"] == 0.1
    assert summary["tokens_per_second"] > 0


def test_lora_targets_every_linear_layer_but_the_head(tiny_llama_dir):
    from transformers import AutoModelForCausalLM

    from training.config import SFTSettings

    model = add_lora(AutoModelForCausalLM.from_pretrained(tiny_llama_dir), SFTSettings())
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert not any("lm_head" in n or "embed" in n for n in trainable)
    assert len(trainable) == 2 * 7 * 2  # A and B for 7 modules in 2 layers


def test_full_fine_tuning_writes_a_plain_model(tmp_path, tiny_llama_dir, training_data):
    from transformers import AutoModelForCausalLM

    cfg = make_config(tmp_path, tiny_llama_dir, training_data, sft={"method": "full", "max_steps": 3})
    summary = sft(cfg)
    assert summary["trainable_parameters"] == summary["parameters"]
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "sft" / "model")
    assert model.config.num_hidden_layers == 2



def test_a_finished_run_is_reused_only_for_the_same_data(lora_run, tmp_path, tiny_llama_dir,
                                                        training_data):
    again = sft(lora_run["cfg"])  # same settings and data: the finished run, as it was
    assert again["finished"] == lora_run["summary"]["finished"]
    data = tmp_path / "sft.jsonl"
    shutil.copy(training_data["sft"], data)
    cfg = make_config(tmp_path, tiny_llama_dir, training_data,
                      sft={"data": str(data), "max_steps": 2})
    assert sft(cfg)["fingerprint"]["data_sha256"]
    # the same file with other content must not pass for the finished run
    with data.open("a", encoding="utf-8") as handle:
        handle.write(data.read_text(encoding="utf-8").splitlines()[0] + "\n")
    with pytest.raises(ValueError, match=r"E315.*data_sha256"):
        sft(cfg)


def test_a_run_can_start_from_a_trained_adapter(lora_run, tmp_path, tiny_llama_dir,
                                                 training_data):
    """[sft] init_adapter loads the saved LoRA weights trainable, then trains on."""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from training.config import SFTSettings

    adapter = lora_run["tmp"] / "sft" / "adapter"
    saved = load_file(str(adapter / "adapter_model.safetensors"))
    settings = SFTSettings(lora_r=8, lora_alpha=16, init_adapter=str(adapter))
    model = add_lora(AutoModelForCausalLM.from_pretrained(tiny_llama_dir), settings)
    b_weights = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert b_weights and all(p.requires_grad for p in b_weights)
    # a fresh LoRA B is zero; these are the saved ones
    assert sorted(float(p.abs().sum()) for p in b_weights) == pytest.approx(
        sorted(float(t.abs().sum()) for k, t in saved.items() if "lora_B" in k))
    fresh_loss = json.loads((lora_run["tmp"] / "sft" / "metrics.jsonl").read_text()
                            .splitlines()[0])["loss"]
    cfg = make_config(tmp_path, tiny_llama_dir, training_data,
                      sft={"max_steps": 2, "micro_batch_size": 4, "init_adapter": str(adapter)})
    summary = sft(cfg)
    first = json.loads((tmp_path / "sft" / "metrics.jsonl").read_text().splitlines()[0])["loss"]
    # the same first batch (same seed and batch size): a fresh adapter gives fresh_loss exactly
    assert first < fresh_loss - 0.1
    assert summary["fingerprint"]["init_adapter"] == str(adapter)


def test_an_adapter_that_does_not_fit_is_refused(lora_run, tiny_llama_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    from training.config import SFTSettings

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    adapter = lora_run["tmp"] / "sft" / "adapter"
    with pytest.raises(ValueError, match=r"E316.*r = 8.*r = 32"):
        add_lora(model, SFTSettings(init_adapter=str(adapter)))
    with pytest.raises(ValueError, match=r"E316.*no adapter_config.json"):
        add_lora(model, SFTSettings(init_adapter=str(tmp_path)))
    with pytest.raises(ValueError, match=r"E302.*init_adapter"):
        SFTSettings(method="full", init_adapter=str(adapter)).check("sft", "test")
