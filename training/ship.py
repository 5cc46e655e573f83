"""Ship a trained LoRA adapter as a model of the package (``spacy_knowcoder/models/<name>``).

``python -m training ship CONFIG --name knowcoder-smol [--scores DIR]
[--baseline DIR] [--force]`` takes the
adapter of ``[merge] adapter`` (the SFT result), checks that it fits its base
(``[sft] model``), stores its weights in bfloat16 (half the size; peft casts them
back to the model's dtype when it applies them), and writes the metadata that
the component checks on load: the base id and fingerprint, the adapter's sha256,
and a training summary (data, steps, tokens/s, time, held-out scores). The model
card ``README.md`` in the target folder is kept; write its numbers from the
summary this command prints.

It refuses (E317) to replace a shipped adapter with one whose held-out NER mean
strict F1 is lower, or that it cannot compare (no ``--scores``), unless
``force``. The shipped side is ``--baseline`` (the shipped model's scores
measured now, the same way) or else the numbers its metadata recorded when it
shipped; only sets with the same number of documents on both sides count.

Example:
    >>> from training.config import load_config, CONFIG_DIR
    >>> cfg = load_config(CONFIG_DIR / "long.cfg")  # doctest: +SKIP
    >>> ship(cfg, "knowcoder-smol", scores_dir="evaluation/long")["adapter_mb"]  # doctest: +SKIP
    19.6
"""
import json
import shutil
from pathlib import Path
from typing import Any, Dict, Optional

import srsly

from spacy_knowcoder.errors import Errors
from spacy_knowcoder.fileio import atomic_directory

from .config import TrainingConfig

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
#: The SFT settings the metadata records.
PROFILE_KEYS = ("seq_length", "micro_batch_size", "gradient_accumulation", "lr", "lora_r",
                "lora_alpha", "lora_dropout", "autocast")
#: The held-out NER sets whose mean strict F1 decides whether an adapter ships.
NER_SETS = ("re3d", "anem", "gum", "wnut17")
#: What the model card and metadata keep from a finished SFT run's summary.
SUMMARY_KEYS = ("total_steps", "seconds", "tokens_per_second", "first_loss", "last_loss",
                "examples", "trainable_parameters", "finished")


def ship(cfg: TrainingConfig, name: str, scores_dir: Optional[str] = None,
         models_root: Optional[Path] = None, baseline_dir: Optional[str] = None,
         force: bool = False) -> Dict[str, Any]:
    """Copy the adapter into the package's models folder with its metadata.

    cfg (TrainingConfig): The profile the adapter was trained with.
    name (str): The shipped model's name (its folder), e.g. "knowcoder-smol".
    scores_dir (Optional[str]): A folder of ``<dataset>/scores.json`` from
        ``knowcoder evaluate`` (held-out sets) to record.
    models_root (Optional[Path]): Where the shipped models live (default: the
        package's ``spacy_knowcoder/models``).
    baseline_dir (Optional[str]): The shipped model's ``<dataset>/scores.json``
        measured now (default: the scores its metadata recorded).
    force (bool): Ship even when the new adapter is not better (or cannot be compared).
    RETURNS (Dict[str, Any]): The metadata's training summary, the adapter size and
        the comparison (``gate``).
    """
    import torch
    from safetensors.torch import load_file, save_file

    from spacy_knowcoder.generation.adapter import base_fingerprint, check_adapter
    from spacy_knowcoder.generation.embedded import base_of_marker
    from spacy_knowcoder.generation.preparation import read_marker
    from spacy_knowcoder.models import shipped_root, write_metadata

    adapter = Path(cfg.merge.adapter)
    check_adapter(adapter)
    base = Path(cfg.sft.model)
    marker = read_marker(base) or {}
    embedded = base_of_marker(marker)
    if embedded is None:
        raise ValueError(Errors.E313.format(path=str(base), section="sft", reason=(
            "it was not made from an embedded base by 'knowcoder prepare-model' (--source "
            "smollm2 or gemma3), so the shipped model could not name the base a user's "
            "machine prepares")))
    target_root = models_root or shipped_root()
    summary = dict(srsly.read_json(Path(cfg.sft.output_dir) / "summary.json"))
    settings = summary.get("settings") or {}
    data_dir = Path(cfg.paths.data_dir)
    training = {
        "profile": {k: settings.get(k) for k in PROFILE_KEYS},
        "sft": {k: summary.get(k) for k in SUMMARY_KEYS},
        "data": _read_json(data_dir / "sft.stats.json"),
        "data_settings": _read_json(data_dir / "settings.json"),
        "heldout": _scores(scores_dir) if scores_dir else {},
    }
    gate = compare_with_shipped(training["heldout"], _shipped_heldout(target_root / name,
                                                                      baseline_dir),
                                target_root / name, force)
    with atomic_directory(target_root / name) as tmp:
        Path(tmp).chmod(0o755)  # mkdtemp makes it private; the package folder is not
        card = target_root / name / "README.md"
        if card.is_file():
            shutil.copy(card, Path(tmp) / "README.md")
        tensors = load_file(str(adapter / "adapter_model.safetensors"))
        save_file({k: v.to(torch.bfloat16).contiguous() for k, v in tensors.items()},
                  str(Path(tmp) / "adapter_model.safetensors"), metadata={"format": "pt"})
        config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf8"))
        config["base_model_name_or_path"] = embedded.base_id
        (Path(tmp) / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n",
                                                       encoding="utf8")
        write_metadata(tmp, base=embedded.base_id, base_fingerprint=base_fingerprint(base),
                       base_source=marker.get("source"), dtype="bfloat16", training=training,
                       name=name)
        for path in Path(tmp).iterdir():
            path.chmod(0o644)
    size = (target_root / name / "adapter_model.safetensors").stat().st_size / 1e6
    return {"name": name, "folder": str(target_root / name), "adapter_mb": round(size, 1),
            "gate": gate, **training}


def ner_mean(heldout: Dict[str, Any], sets: Any = NER_SETS) -> Optional[float]:
    """Mean strict NER F1 (in %) over ``sets`` of a ``heldout`` record (None if none).

    Example:
        >>> ner_mean({"re3d": {"strict": {"ner_strict": {"f": 0.2}}}, "gum": {"strict": {}}},
        ...          ["re3d"])
        20.0
    """
    values = [heldout[s]["strict"]["ner_strict"]["f"] for s in sets
              if "ner_strict" in (heldout.get(s) or {}).get("strict", {})]
    return round(100 * sum(values) / len(values), 2) if values else None


def compare_with_shipped(new: Dict[str, Any], shipped: Optional[Dict[str, Any]],
                         target: Path, force: bool = False) -> Dict[str, Any]:
    """The NER means of the new and the shipped adapter; E317 unless new >= shipped.

    ``shipped`` is None where no trained adapter is shipped yet (nothing to beat).
    Sets count where both sides scored the same number of documents.
    """
    if shipped is None:
        return {"sets": [], "new": ner_mean(new), "shipped": None, "forced": force}
    sets = [s for s in NER_SETS if ner_mean(new, [s]) is not None
            and ner_mean(shipped, [s]) is not None
            and new[s].get("n_docs") == shipped[s].get("n_docs")]
    new_mean, old_mean = ner_mean(new, sets), ner_mean(shipped, sets)
    reason = None
    if not sets:
        reason = "no held-out NER set was scored on both sides with the same documents"
    elif new_mean < old_mean:  # type: ignore[operator]
        reason = "the new adapter's held-out NER mean is lower"
    if reason and not force:
        raise ValueError(Errors.E317.format(target=target, reason=reason,
                                            sets=", ".join(sets) or "none", new=new_mean,
                                            old=old_mean))
    return {"sets": sets, "new": new_mean, "shipped": old_mean, "forced": bool(reason)}


def _shipped_heldout(folder: Path, baseline_dir: Optional[str]) -> Optional[Dict[str, Any]]:
    """The shipped adapter's held-out scores (None: no trained adapter there yet)."""
    meta = folder / "knowcoder_model.json"
    if not (folder / "adapter_config.json").is_file() or not meta.is_file():
        return None
    if baseline_dir:
        return _scores(baseline_dir)
    return dict((srsly.read_json(meta).get("training") or {}).get("heldout") or {})


def _read_json(path: Path) -> Any:
    return srsly.read_json(path) if path.is_file() else None


def _scores(folder: str) -> Dict[str, Any]:
    """Strict scores per held-out dataset from ``<folder>/<dataset>/scores.json``."""
    found: Dict[str, Any] = {}
    for path in sorted(Path(folder).glob("*/scores.json")):
        scores = srsly.read_json(path)
        strict = {metric: {k: v for k, v in values.items() if k != "per_label"}
                  for metric, values in scores.get("metrics", {}).items()
                  if metric.endswith("_strict") and isinstance(values, dict)}
        found[path.parent.name] = {"n_docs": scores.get("n_docs"), "strict": strict}
    return found
