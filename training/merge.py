"""Merge a LoRA adapter into its base model and save a plain HF directory.

The result (config.json, safetensors, tokenizer) loads with
``AutoModelForCausalLM.from_pretrained`` and with the plugin's HFGenerator,
without peft.

Example:
    >>> from training.config import MergeSettings
    >>> merge(MergeSettings(base_model="out/pretrain/model", adapter="out/sft/adapter",  # doctest: +SKIP
    ...                     output_dir="out/merged"))
    {'output_dir': 'out/merged', ...}
"""
from pathlib import Path
from typing import Any, Dict

from spacy_knowcoder.errors import Errors
from spacy_knowcoder.fileio import atomic_directory

from .config import MergeSettings
from .runtime import load_model_config, torch_dtype


def merge(settings: MergeSettings) -> Dict[str, Any]:
    """Load base + adapter, ``merge_and_unload`` and save atomically.

    settings (MergeSettings): base_model, adapter, output_dir, dtype.
    RETURNS (Dict[str, Any]): output_dir and the parameter count.
    RAISES: ValueError (E314) when the adapter folder has no adapter_config.json.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = Path(settings.adapter)
    if not (adapter / "adapter_config.json").is_file():
        raise ValueError(Errors.E314.format(path=adapter))
    load_model_config(settings.base_model, "merge")
    base = AutoModelForCausalLM.from_pretrained(settings.base_model, dtype=torch_dtype(settings.dtype))
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else settings.base_model
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_source))
    with atomic_directory(settings.output_dir) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return {"output_dir": str(settings.output_dir),
            "parameters": sum(p.numel() for p in merged.parameters())}
