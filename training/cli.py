"""The training command line: ``python -m training COMMAND CONFIG [overrides]``.

Commands (every hyperparameter comes from CONFIG, a ``.cfg`` profile; any
value can be overridden as ``--section.key VALUE``):

* ``build-data``  construct the pretraining and SFT JSONL files (training.data)
* ``pretrain``    phase 1 under DeepSpeed (ZeRO, or pipeline stages)
* ``sft``         phase 2, LoRA or full fine-tuning on the responses
* ``merge``       merge the LoRA adapter into a plain HF directory
* ``ship``        copy the adapter into the package as a shipped model
                  (``--name knowcoder-smol --scores DIR``; :mod:`training.ship`)
* ``show-config`` print the resolved config

``--dry-run`` validates the config, the DeepSpeed JSON, the data files and the
memory estimate without loading model weights. Multi-process runs are launched
with ``torchrun --nproc_per_node N -m training pretrain CONFIG``.

Example:
    >>> main(["show-config", str(CONFIG_DIR / "default.cfg"), "--pretrain.max_steps", "3"])  # doctest: +SKIP
"""
import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import srsly

from .config import CONFIG_DIR, TrainingConfig, load_config, parse_overrides, section_items

COMMANDS = ("build-data", "pretrain", "sft", "merge", "ship", "show-config")


def make_parser() -> argparse.ArgumentParser:
    """The argument parser; unknown ``--section.key`` pairs become overrides."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("config", help=f"a .cfg profile, e.g. {CONFIG_DIR / 'default.cfg'}")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate config, DeepSpeed JSON, data and memory without training")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--world-size", type=int, default=None,
                        help="with --dry-run: the number of processes the real run will have")
    parser.add_argument("--name", default="knowcoder-smol", help="with ship: the shipped model's name")
    parser.add_argument("--scores", default=None,
                        help="with ship: a folder of <dataset>/scores.json (held-out evaluation)")
    parser.add_argument("--baseline", default=None,
                        help="with ship: the shipped model's <dataset>/scores.json, measured the "
                        "same way (default: the scores its metadata recorded)")
    parser.add_argument("--force", action="store_true",
                        help="with ship: replace the shipped adapter even if it is not better")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run one command; returns the exit status."""
    parser = make_parser()
    args, extra = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    overrides = parse_overrides(extra)
    if args.no_progress:
        overrides.update({"pretrain.progress": False, "sft.progress": False})
    cfg = load_config(args.config, overrides)
    if args.command == "ship":
        from .ship import ship

        result = ship(cfg, args.name, scores_dir=args.scores, baseline_dir=args.baseline,
                      force=args.force)
    else:
        result = run_command(args.command, cfg, dry_run=args.dry_run, world_size=args.world_size)
    if result is not None and _is_rank_zero():
        print(srsly.json_dumps(result, indent=2))
    return 0


def run_command(command: str, cfg: TrainingConfig, dry_run: bool = False,
                world_size: Optional[int] = None) -> Optional[Dict[str, Any]]:
    """Dispatch a command; heavy modules are imported only when used."""
    if command == "show-config":
        return dict(section_items(cfg))
    if dry_run:
        from .dryrun import dry_run as check

        return check(command, cfg, world_size=world_size)
    if command == "build-data":
        return build_data(cfg)
    if command == "pretrain":
        from .pretrain import pretrain

        return _short(pretrain(cfg))
    if command == "sft":
        from .sft import sft

        return _short(sft(cfg))
    from .merge import merge

    return merge(cfg.merge)


def build_data(cfg: TrainingConfig) -> Dict[str, Any]:
    """Call ``training.data.build_training_data`` with the [data] section."""
    from .config import data_settings_class
    from . import data as data_module

    settings_cls = data_settings_class()
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.data.items()}
    settings = settings_cls(**values) if settings_cls is not None else values
    library = None
    if cfg.paths.schema_library:
        from spacy_knowcoder.schema.library import SchemaLibrary

        library = SchemaLibrary.from_disk(cfg.paths.schema_library)
    result = data_module.build_training_data(settings, cfg.paths.data_root, cfg.paths.data_dir,
                                             schema_library=library)
    if dataclasses.is_dataclass(result):
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(result).items()}
    return result if isinstance(result, dict) else {"result": str(result)}


def _short(summary: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "settings"}


def _is_rank_zero() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"
