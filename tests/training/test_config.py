"""The config system: one .cfg per profile, CLI overrides, coded errors, dry runs."""
import pytest

from training.cli import main
from training.config import CONFIG_DIR, load_config, load_config_str, parse_overrides
from training.dryrun import dry_run
from training.runtime import deepspeed_config, lr_factor, oom_guard


def test_default_profile_loads_with_reference_sft_defaults():
    cfg = load_config(CONFIG_DIR / "default.cfg")
    assert cfg.pretrain.model == "models/smollm2-135m"
    assert cfg.sft.model == "training/out/pretrain/model"  # interpolated
    assert (cfg.sft.lora_r, cfg.sft.lora_alpha, cfg.sft.lora_dropout, cfg.sft.lr) == (32, 64, 0.0, 3e-4)  # dropout 0 on CPU (gpu.cfg keeps 0.1)
    assert cfg.sft.lr_scheduler == "cosine" and cfg.sft.warmup_ratio == 0.1
    assert "lm_head" not in cfg.sft.lora_target_modules and len(cfg.sft.lora_target_modules) == 7


def test_overrides_and_interpolation():
    args = ["--pretrain.max_steps", "7", "--paths.output_dir=/tmp/x", "--sft.method", "full"]
    cfg = load_config(CONFIG_DIR / "default.cfg", parse_overrides(args))
    assert cfg.pretrain.max_steps == 7 and cfg.sft.method == "full"
    assert cfg.pretrain.output_dir == "/tmp/x/pretrain"


@pytest.mark.parametrize("text,code", [
    ("[pretrain]\nmax_step = 3", "E300"),
    ("[pretrains]\nmax_steps = 3", "E301"),
    ("[sft]\nlr = \"fast\"", "E302"),
    ("[sft]\nmethod = \"qlora\"", "E302"),
    ("[pretrain]\nmicro_batch_size = 0", "E302"),
    ("[data]\nner_candidatez = 3", "E300"),
    ("[pretrain\nmax_steps = 3", "E303"),
])
def test_bad_config_values_get_coded_errors(text, code):
    with pytest.raises(ValueError, match=code) as err:
        load_config_str(text, source="x.cfg")
    assert "x.cfg" in str(err.value)


def test_unknown_override_lists_valid_keys():
    with pytest.raises(ValueError, match="E300") as err:
        main(["show-config", str(CONFIG_DIR / "default.cfg"), "--pretrain.max_stepz", "3"])
    assert "max_steps" in str(err.value)
    with pytest.raises(ValueError, match="E304"):
        parse_overrides(["max_steps", "3"])


def test_deepspeed_json_may_not_set_values_of_the_config(tmp_path):
    bad = tmp_path / "ds.json"
    bad.write_text('{"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": 8}')
    cfg = load_config_str(f"[pretrain]\ndeepspeed_config = \"{bad}\"\nmicro_batch_size = 2")
    with pytest.raises(ValueError, match="E308"):
        deepspeed_config(cfg.pretrain, "pretrain")
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="E309"):
        deepspeed_config(cfg.pretrain, "pretrain")


def test_zero_configs_pass_deepspeed_validation():
    for stage in range(4):
        cfg = load_config_str(f"[pretrain]\ndeepspeed_config = \"{CONFIG_DIR}/deepspeed/zero{stage}.json\"")
        assert deepspeed_config(cfg.pretrain, "pretrain")["zero_optimization"]["stage"] == stage


def test_gpu_profile_dry_run():
    cfg = load_config(CONFIG_DIR / "gpu.cfg")
    report = dry_run("pretrain", cfg, world_size=8)
    assert report["pipeline_stages"] == 4 and report["data_parallel"] == 2
    assert report["tokens_per_optimizer_step"] == 512 * 2048  # reference global batch 512 x 2048
    assert 6.5e9 < report["parameters"] < 7e9
    assert report["memory_gb_per_process"]["total"] < 80
    sft_report = dry_run("sft", cfg, world_size=8)
    assert sft_report["zero_stage"] == 2
    with pytest.raises(ValueError, match="E312"):
        dry_run("pretrain", cfg, world_size=6)
    with pytest.raises(MemoryError, match="E310"):
        dry_run("pretrain", load_config(CONFIG_DIR / "gpu.cfg", {"pretrain.micro_batch_size": 512,
                                                                   "pretrain.gradient_checkpointing": False}),
                world_size=8)


def test_lr_schedule_warmup_then_cosine_to_min():
    factors = [lr_factor(s, 100, 10, "cosine", 0.1) for s in range(101)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert factors[100] == pytest.approx(0.1)


def test_out_of_memory_is_explained():
    cfg = load_config_str("[sft]\nmicro_batch_size = 64")
    with pytest.raises(MemoryError, match="E311") as err:
        with oom_guard(cfg.sft, "sft", {"step": 3}):
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")
    assert "micro_batch_size 64" in str(err.value) and "step 3" in str(err.value)


@pytest.mark.parametrize("name", ["config", "datasets", "runtime", "loop", "metrics", "checkpoints",
                                  "dryrun", "merge", "sft", "pretrain", "pipeline", "cli"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"training.{name}"),
                             optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0
