"""One place for every training hyperparameter: a ``.cfg`` file plus CLI overrides.

A profile is a confection (thinc) config file, the format spaCy users know from
``spacy train``. Its sections are validated against the dataclasses below: an
unknown section or key fails when the config loads, with the list of valid
names, not an hour into a run. Values may interpolate others
(``${paths.output_dir}/pretrain``), and any value can be overridden on the
command line (``--pretrain.max_steps 10``). The ``[data]`` section is handed
to ``training.data`` (the data construction step) and validated by its own
settings dataclass when that package is importable.

Example:
    >>> cfg = load_config_str('''
    ... [paths]
    ... base_model = "models/smollm2-135m"
    ... output_dir = "training/out"
    ... [pretrain]
    ... max_steps = 50
    ... ''', overrides={"pretrain.max_steps": 5})
    >>> cfg.pretrain.max_steps, cfg.pretrain.lr
    (5, 0.0001)
    >>> load_config_str("[pretrain]\\nmax_step = 5")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: (spacy-knowcoder) [E300] The config section [pretrain] has no setting 'max_step' ...
"""
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, get_args, get_origin, get_type_hints

from spacy_knowcoder.errors import Errors

#: Where the profiles and DeepSpeed JSON files live.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEEPSPEED_DIR = CONFIG_DIR / "deepspeed"
#: Llama's linear layers except lm_head: the reference LoRA targets (KnowCoder
#: sft/ scripts use all linear layers but the head).
LLAMA_LINEAR_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class PathsSettings:
    """Shared paths; other sections interpolate them (``${paths.output_dir}``).

    base_model (str): The model that pretraining starts from (HF dir or hub id).
    data_root (str): The raw data mirror read by build-data (``../shared/data``).
    data_dir (str): Where build-data writes the training JSONL files.
    output_dir (str): Root of all training outputs.
    schema_library (str): A schema library JSON (``knowcoder schema build``) whose
        classes become the schema-definition documents; "" uses the labels of the
        Wikidata-aligned datasets instead.
    """

    base_model: str = "models/smollm2-135m"
    data_root: str = "../shared/data"
    data_dir: str = "training/out/data"
    output_dir: str = "training/out"
    schema_library: str = ""


@dataclass
class TrainSettings:
    """Settings shared by both training phases.

    model (str): The model to start from.
    data (str): The JSONL training file.
    output_dir (str): Checkpoints, metrics.jsonl, summary.json and the final model.
    deepspeed_config (str): A DeepSpeed JSON with ZeRO/precision settings only;
        batch sizes, optimizer, scheduler and clipping are set here.
    seq_length (int): Tokens per sequence.
    micro_batch_size (int): Sequences per process per forward pass.
    gradient_accumulation (int): Micro batches per optimizer step.
    max_steps (int): Optimizer steps; 0 means ``epochs`` passes over the data.
    epochs (float): Passes over the data when max_steps is 0.
    lr (float): Peak learning rate.
    min_lr_ratio (float): Final lr as a fraction of ``lr`` (cosine schedule).
    lr_scheduler (str): "cosine", "linear" or "constant" (after warmup).
    warmup_ratio (float): Fraction of the steps with linear warmup.
    weight_decay (float): AdamW weight decay.
    adam_beta1, adam_beta2 (float): AdamW betas.
    gradient_clipping (float): Max gradient norm (0 disables).
    dtype (str): "float32", "bfloat16" or "float16": the dtype the weights are
        stored and updated in (DeepSpeed's bf16/fp16 modes for the latter two).
    autocast (str): Compute precision of the forward pass under ``torch.autocast``
        with float32 weights: "auto" (bfloat16 where the CPU or GPU computes it
        natively, see :mod:`spacy_knowcoder.precision`; float32 elsewhere, with a
        notice), "bfloat16", "float16" (CUDA) or "off".
    bucket_by_length (bool): Batch examples of similar length together (within
        windows of 16 micro batches; batch order still shuffled), so less compute
        goes to padding.
    seed (int): Seed for data order, initialization and dropout.
    checkpoint_every (int): Save a resumable checkpoint every N steps (0: never).
    keep_checkpoints (int): How many checkpoints to keep.
    log_every (int): Write a metrics line every N steps.
    progress (bool): Show a progress bar (only on a TTY).
    max_memory_gb (float): Memory budget per process for the pre-flight
        estimate; 0 means the machine's total memory (or the GPU's).
    gradient_checkpointing (bool): Recompute activations to save memory.
    attention (str): The transformers attention implementation: "sdpa" or
        "eager" (plain matmuls and softmax; on CPU with short sequences it runs
        faster than SDPA's flash kernel, whose backward dominated a step,
        ``benchmarks/training_throughput.py``).
    """

    model: str = ""
    data: str = ""
    output_dir: str = ""
    deepspeed_config: str = str(DEEPSPEED_DIR / "zero1.json")
    seq_length: int = 512
    micro_batch_size: int = 4
    gradient_accumulation: int = 1
    max_steps: int = 0
    epochs: float = 1.0
    lr: float = 1e-4
    min_lr_ratio: float = 0.1
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    gradient_clipping: float = 1.0
    dtype: str = "float32"
    autocast: str = "auto"
    bucket_by_length: bool = True
    seed: int = 0
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    log_every: int = 1
    progress: bool = True
    max_memory_gb: float = 0.0
    gradient_checkpointing: bool = False
    attention: str = "sdpa"

    def check(self, section: str, where: str) -> None:
        """Raise E302 for values outside their range."""
        positive = ("seq_length", "micro_batch_size", "gradient_accumulation", "log_every")
        for name in positive:
            _require(getattr(self, name) > 0, section, name, where, "an integer > 0", getattr(self, name))
        for name in ("max_steps", "checkpoint_every"):
            _require(getattr(self, name) >= 0, section, name, where, "an integer >= 0", getattr(self, name))
        _require(self.keep_checkpoints >= 1, section, "keep_checkpoints", where, "an integer >= 1",
                 self.keep_checkpoints)
        _require(self.lr > 0, section, "lr", where, "a number > 0", self.lr)
        _require(self.max_steps > 0 or self.epochs > 0, section, "epochs", where,
                 "a number > 0 when max_steps is 0", self.epochs)
        _require(0 <= self.warmup_ratio < 1, section, "warmup_ratio", where, "a number in [0, 1)",
                 self.warmup_ratio)
        _require(0 <= self.min_lr_ratio <= 1, section, "min_lr_ratio", where, "a number in [0, 1]",
                 self.min_lr_ratio)
        _require(self.lr_scheduler in ("cosine", "linear", "constant"), section, "lr_scheduler", where,
                 "'cosine', 'linear' or 'constant'", self.lr_scheduler)
        _require(self.dtype in ("float32", "bfloat16", "float16"), section, "dtype", where,
                 "'float32', 'bfloat16' or 'float16'", self.dtype)
        _require(self.autocast in ("auto", "bfloat16", "float16", "off"), section, "autocast", where,
                 "'auto', 'bfloat16', 'float16' or 'off'", self.autocast)
        _require(self.max_memory_gb >= 0, section, "max_memory_gb", where, "a number >= 0",
                 self.max_memory_gb)
        _require(self.attention in ("sdpa", "eager"), section, "attention", where,
                 "'sdpa' or 'eager'", self.attention)


@dataclass
class PretrainSettings(TrainSettings):
    """Phase 1, schema understanding: causal-LM training on code (DESIGN §7).

    pipeline_stages (int): 0 or 1 trains the whole model in every process
        (ZeRO data parallelism); N >= 2 splits the Llama model into N pipeline
        stages (embedding, decoder layers, norm, head).
    """

    pipeline_stages: int = 0

    def check(self, section: str, where: str) -> None:
        super().check(section, where)
        _require(self.pipeline_stages >= 0, section, "pipeline_stages", where, "an integer >= 0",
                 self.pipeline_stages)


@dataclass
class SFTSettings(TrainSettings):
    """Phase 2, schema following: instruction tuning with the loss on the response.

    Defaults are the reference's (KnowCoder sft/ scripts): LoRA r 32, alpha 64,
    dropout 0.1 on all linear layers but lm_head, lr 3e-4, cosine, warmup 0.1.

    method (str): "lora" or "full" (full fine-tuning).
    lora_r, lora_alpha (int), lora_dropout (float): LoRA settings.
    lora_target_modules (List[str]): Module names that get adapters.
    share_prefix (bool): Train examples whose prompts share a class-definition
        prefix as units: the prefix runs once per unit of up to
        ``micro_batch_size`` suffixes (same loss and gradients, a fraction of
        the compute; build the data with ``[data] schema_group_size`` > 1 so
        that prompts share prefixes). Prompts are tokenized as prefix + suffix,
        exactly as at inference.
    base_dtype (str): Dtype of the frozen base weights under LoRA: "float32",
        "bfloat16", or "auto" (bfloat16 when ``autocast`` resolves to it, so the
        forward skips casting the weights every step, and the adapter learns on
        the weights it will run on at inference). The adapters and their
        optimizer states stay float32.
    init_adapter (str): A LoRA adapter to start from instead of fresh adapters:
        a shipped model's name (``knowcoder-smol``) or a folder, so a run can go
        on from the shipped model when its checkpoints are gone; "" starts
        fresh. Its r and target modules must match.
    """

    lr: float = 3e-4
    warmup_ratio: float = 0.1
    min_lr_ratio: float = 0.0
    method: str = "lora"
    lora_r: int = 32
    lora_alpha: int = 64
    lora_dropout: float = 0.1
    lora_target_modules: List[str] = field(default_factory=lambda: list(LLAMA_LINEAR_MODULES))
    share_prefix: bool = False
    base_dtype: str = "float32"
    init_adapter: str = ""

    def check(self, section: str, where: str) -> None:
        super().check(section, where)
        _require(self.base_dtype in ("auto", "float32", "bfloat16"), section, "base_dtype", where,
                 "'auto', 'float32' or 'bfloat16'", self.base_dtype)
        _require(self.base_dtype == "float32" or self.method == "lora", section, "base_dtype", where,
                 "'float32' with method = 'full' (only frozen weights can be stored in bfloat16)",
                 self.base_dtype)
        _require(self.method in ("lora", "full"), section, "method", where, "'lora' or 'full'",
                 self.method)
        _require(not self.init_adapter or self.method == "lora", section, "init_adapter", where,
                 "\"\" with method = 'full' (an adapter starts only a LoRA run)",
                 self.init_adapter)
        _require(self.lora_r > 0, section, "lora_r", where, "an integer > 0", self.lora_r)
        _require(0 <= self.lora_dropout < 1, section, "lora_dropout", where, "a number in [0, 1)",
                 self.lora_dropout)
        _require(bool(self.lora_target_modules), section, "lora_target_modules", where,
                 "a non-empty list of module names", self.lora_target_modules)


@dataclass
class MergeSettings:
    """Merge a LoRA adapter into its base model and save a plain HF directory.

    base_model (str): The model the adapter was trained on.
    adapter (str): The adapter folder written by the sft command.
    output_dir (str): The merged model directory.
    dtype (str): Precision of the saved weights.
    """

    base_model: str = ""
    adapter: str = ""
    output_dir: str = ""
    dtype: str = "float32"

    def check(self, section: str, where: str) -> None:
        _require(self.dtype in ("float32", "bfloat16", "float16"), section, "dtype", where,
                 "'float32', 'bfloat16' or 'float16'", self.dtype)


@dataclass
class TrainingConfig:
    """A validated training profile.

    source (str): Where it came from (file path or "<string>"), for messages.
    data (Dict[str, Any]): The [data] section, for ``training.data``.
    """

    paths: PathsSettings
    pretrain: PretrainSettings
    sft: SFTSettings
    merge: MergeSettings
    data: Dict[str, Any]
    source: str = "<string>"


SECTIONS: Dict[str, type] = {"paths": PathsSettings, "pretrain": PretrainSettings,
                             "sft": SFTSettings, "merge": MergeSettings}
FREE_SECTIONS = ("data",)


def _require(ok: bool, section: str, key: str, where: str, expected: str, value: Any) -> None:
    if not ok:
        raise ValueError(Errors.E302.format(section=section, key=key, where=where,
                                            expected=expected, value=value))


def load_config(path: Union[str, Path], overrides: Optional[Mapping[str, Any]] = None) -> TrainingConfig:
    """Read and validate a profile file.

    path (Union[str, Path]): The ``.cfg`` file.
    overrides (Optional[Mapping[str, Any]]): Dotted keys such as "pretrain.max_steps".
    RETURNS (TrainingConfig): The validated config.
    RAISES: ValueError (E300-E303) for a missing file, bad syntax, unknown keys or values.

    Example:
        >>> cfg = load_config(CONFIG_DIR / "default.cfg", {"pretrain.max_steps": 3})
        >>> cfg.pretrain.max_steps
        3
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(Errors.E303.format(path=path, reason="the file does not exist"))
    return load_config_str(path.read_text(encoding="utf-8"), overrides, source=str(path))


def load_config_str(text: str, overrides: Optional[Mapping[str, Any]] = None,
                    source: str = "<string>") -> TrainingConfig:
    """Parse and validate a profile given as text (see :func:`load_config`).

    Example:
        >>> load_config_str("[sft]\\nlora_r = 8").sft.lora_r
        8
    """
    from confection import Config

    overrides = dict(overrides or {})
    _check_override_keys(overrides, source)
    try:
        raw = Config().from_str(text, overrides=overrides, interpolate=True)
    except Exception as err:  # confection raises several types for syntax errors
        raise ValueError(Errors.E303.format(path=source, reason=err)) from None
    return build_config(dict(raw), source)


def build_config(raw: Mapping[str, Any], source: str = "<dict>") -> TrainingConfig:
    """Validate a parsed config dict against the section dataclasses.

    raw (Mapping[str, Any]): Section name -> {key: value}.
    source (str): Named in error messages.
    RETURNS (TrainingConfig): The validated config, with defaults filled in.

    Example:
        >>> build_config({"merge": {"dtype": "bfloat16"}}).merge.dtype
        'bfloat16'
    """
    valid = sorted(list(SECTIONS) + list(FREE_SECTIONS))
    for name in raw:
        if name not in SECTIONS and name not in FREE_SECTIONS:
            raise ValueError(Errors.E301.format(section=name, where=source, valid=", ".join(valid)))
    built = {name: _build_section(name, cls, raw.get(name, {}) or {}, source)
             for name, cls in SECTIONS.items()}
    data = dict(raw.get("data", {}) or {})
    _validate_data_section(data, source)
    return TrainingConfig(data=data, source=source, **built)


def _build_section(name: str, cls: type, values: Mapping[str, Any], source: str) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise ValueError(Errors.E300.format(section=name, key=key, where=source,
                                                valid=", ".join(sorted(fields))))
        kwargs[key] = _coerce(value, hints[key], name, key, source)
    settings = cls(**kwargs)
    if hasattr(settings, "check"):
        settings.check(name, source)
    return settings


def _coerce(value: Any, hint: Any, section: str, key: str, where: str) -> Any:
    """Check a value against a simple type hint; ints are accepted for floats."""
    origin = get_origin(hint)
    if origin in (list, List, Sequence):
        (item,) = get_args(hint) or (Any,)
        if isinstance(value, (list, tuple)):
            return [_coerce(v, item, section, key, where) for v in value]
        _require(False, section, key, where, f"a list of {getattr(item, '__name__', item)}", value)
    if hint is Any:
        return value
    if hint is bool:
        _require(isinstance(value, bool), section, key, where, "true or false", value)
        return value
    if hint is int:
        _require(isinstance(value, int) and not isinstance(value, bool), section, key, where,
                 "an integer", value)
        return value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        _require(ok, section, key, where, "a number", value)
        return float(value)
    if hint is str:
        _require(isinstance(value, str), section, key, where, "a string (in double quotes)", value)
        return value
    return value


def _check_override_keys(overrides: Mapping[str, Any], source: str) -> None:
    for dotted in overrides:
        section, _, key = dotted.partition(".")
        if not key:
            raise ValueError(Errors.E304.format(arg=f"--{dotted}"))
        if section in SECTIONS:
            fields = {f.name for f in dataclasses.fields(SECTIONS[section])}
            if key not in fields:
                raise ValueError(Errors.E300.format(section=section, key=key, where="command line",
                                                    valid=", ".join(sorted(fields))))
        elif section not in FREE_SECTIONS:
            valid = ", ".join(sorted(list(SECTIONS) + list(FREE_SECTIONS)))
            raise ValueError(Errors.E301.format(section=section, where="command line", valid=valid))


def _validate_data_section(data: Mapping[str, Any], source: str) -> None:
    """Check [data] keys against training.data's settings when it is available."""
    cls = data_settings_class()
    if cls is None or not dataclasses.is_dataclass(cls):
        return
    fields = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ValueError(Errors.E300.format(section="data", key=key, where=source,
                                                valid=", ".join(sorted(fields))))


def data_settings_class() -> Optional[type]:
    """The settings dataclass of ``training.data``, or None before it exists."""
    try:
        from . import data as data_module
    except ImportError:
        return None
    for name in ("DataSettings", "BuildSettings", "DataBuildSettings"):
        cls = getattr(data_module, name, None)
        if cls is not None:
            return cls
    return None


def parse_overrides(args: Sequence[str]) -> Dict[str, Any]:
    """Turn ``["--pretrain.max_steps", "10", "--sft.lr=3e-4"]`` into a dict.

    Values are read as JSON where possible (numbers, true/false, lists), else
    kept as strings.

    args (Sequence[str]): The extra command-line arguments.
    RETURNS (Dict[str, Any]): Dotted key -> value.
    RAISES: ValueError (E304) for anything that is not a --section.key pair.

    Example:
        >>> parse_overrides(["--pretrain.max_steps", "10", "--sft.method=full"])
        {'pretrain.max_steps': 10, 'sft.method': 'full'}
    """
    out: Dict[str, Any] = {}
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if not arg.startswith("--") or "." not in arg:
            raise ValueError(Errors.E304.format(arg=arg))
        if "=" in arg:
            key, value = arg[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(items):
                raise ValueError(Errors.E304.format(arg=arg))
            key, value = arg[2:], items[i + 1]
            i += 2
        out[key.replace("-", "_")] = _parse_value(value)
    return out


def _parse_value(text: str) -> Any:
    import srsly

    try:
        return srsly.json_loads(text)
    except ValueError:
        return text


def resolve_path(value: str) -> Path:
    """A config path, relative to the working directory like spaCy's CLI."""
    return Path(value).expanduser()


def as_dict(settings: Any) -> Dict[str, Any]:
    """A settings dataclass as a JSON-able dict (for summaries and checkpoints)."""
    return dataclasses.asdict(settings)


def section_items(cfg: TrainingConfig) -> List[Tuple[str, Dict[str, Any]]]:
    """Every section with its final values, for ``--dry-run`` reports."""
    items = [(name, as_dict(getattr(cfg, name))) for name in SECTIONS]
    return items + [("data", dict(cfg.data))]
