"""Pipeline-parallel pretraining: a Llama model split into DeepSpeed pipeline stages.

The model becomes a flat list of layers for ``deepspeed.pipe.PipelineModule``:
the token embedding, one entry per decoder layer, the final norm and the LM
head (tied to the embedding with ``TiedLayerSpec`` when the model ties them,
as SmolLM2 does). Between stages only the hidden states travel; each decoder
stage computes its rotary position embeddings from the sequence length itself
(transformers 5.x decoder layers take them as an argument) and relies on SDPA's
causal masking, which is exact for packed, unpadded pretraining blocks.

Every stage loads only its own weights from the model's safetensors files.
At the end the stages' weights are gathered on rank 0, which writes a plain
``LlamaForCausalLM`` directory that ``from_pretrained`` loads. The run itself is
``training.pretrain.PipelinePretrainPhase``; this module holds the model split.

Launch with one process per stage (times the data-parallel size)::

    torchrun --nproc_per_node 2 -m training pretrain CONFIG --pretrain.pipeline_stages 2

Example:
    >>> layers = pipeline_layers(llama_config)  # doctest: +SKIP
    >>> [type(spec).__name__ for spec in layers][:2]  # doctest: +SKIP
    ['TiedLayerSpec', 'LayerSpec']
"""
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import torch
from torch import nn

from spacy_knowcoder.errors import Errors
from spacy_knowcoder.fileio import atomic_directory

from .datasets import IGNORE_INDEX
from .runtime import barrier

SECTION = "pretrain"
TIED_KEY = "embed"


class EmbeddingPipe(nn.Module):
    """Stage part: token ids -> embeddings (also the tied LM head's weight)."""

    hf_names = {"embed_tokens.": "model.embed_tokens."}

    def __init__(self, config: Any):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, config.pad_token_id)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)


class DecoderPipe(nn.Module):
    """Stage part: one Llama decoder layer with its own rotary embedding."""

    def __init__(self, config: Any, index: int):
        super().__init__()
        from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding

        self.layer = LlamaDecoderLayer(config, index)
        self.rotary = LlamaRotaryEmbedding(config)
        self.hf_names = {"layer.": f"model.layers.{index}."}

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(hidden.shape[1], device=hidden.device).unsqueeze(0)
        cos_sin = self.rotary(hidden, positions)
        return self.layer(hidden, attention_mask=None, position_ids=positions, position_embeddings=cos_sin)


class NormPipe(nn.Module):
    """Stage part: the final RMS norm."""

    hf_names = {"norm.": "model.norm."}

    def __init__(self, config: Any):
        super().__init__()
        from transformers.models.llama.modeling_llama import LlamaRMSNorm

        self.norm = LlamaRMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.norm(hidden)


class HeadPipe(nn.Module):
    """Stage part: an untied LM head."""

    hf_names = {"lm_head.": "lm_head."}

    def __init__(self, config: Any):
        super().__init__()
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm_head(hidden)


def tied_head(module: EmbeddingPipe, hidden: torch.Tensor) -> torch.Tensor:
    """The LM head that reuses the embedding matrix."""
    return nn.functional.linear(hidden, module.embed_tokens.weight)


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross entropy, ignoring -100 labels."""
    shifted = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
    return nn.functional.cross_entropy(shifted, labels[:, 1:].reshape(-1), ignore_index=IGNORE_INDEX)


def pipeline_layers(config: Any) -> List[Any]:
    """LayerSpecs for embedding, decoder layers, norm and head (tied if the model ties)."""
    from deepspeed.pipe import LayerSpec, TiedLayerSpec

    tied = bool(getattr(config, "tie_word_embeddings", False))
    attr = "embed_tokens.weight"
    first = TiedLayerSpec(TIED_KEY, EmbeddingPipe, config, tied_weight_attr=attr) if tied \
        else LayerSpec(EmbeddingPipe, config)
    layers = [first] + [LayerSpec(DecoderPipe, config, i) for i in range(config.num_hidden_layers)]
    layers.append(LayerSpec(NormPipe, config))
    if tied:
        layers.append(TiedLayerSpec(TIED_KEY, EmbeddingPipe, config, forward_fn=tied_head, tied_weight_attr=attr))
    else:
        layers.append(LayerSpec(HeadPipe, config))
    return layers


def check_pipeline(stages: int, world_size: int, n_layers: int, zero: int = 0) -> None:
    """E312 unless the processes divide into stages, every stage gets a layer and
    the ZeRO stage is 0 or 1 (DeepSpeed pipelines support no higher stage)."""
    reason = ""
    if zero > 1:
        reason = f"DeepSpeed pipeline parallelism supports ZeRO stage 0 or 1, not {zero}"
    elif world_size % stages:
        reason = f"{world_size} processes do not divide into {stages} stages"
    elif n_layers < stages:
        reason = "there are more stages than decoder layers"
    if reason:
        raise ValueError(Errors.E312.format(section=SECTION, stages=stages, world_size=world_size,
                                            layers=n_layers, reason=reason))


def build_pipeline_module(config: Any, stages: int, seed: int, checkpointing: bool = False) -> Any:
    """The PipelineModule, balancing decoder layers across stages."""
    from deepspeed.pipe import PipelineModule

    config._attn_implementation = "sdpa"  # causal masking without an explicit mask
    return PipelineModule(layers=pipeline_layers(config), num_stages=stages, loss_fn=causal_lm_loss,
                          partition_method="type:DecoderPipe", base_seed=seed,
                          activation_checkpoint_interval=1 if checkpointing else 0)


def local_modules(pipe: Any) -> Iterator[nn.Module]:
    """The stage parts this process holds (tied ones once)."""
    for name, child in pipe.named_children():
        if name == "tied_modules":
            yield from child.values()
        elif hasattr(child, "hf_names"):
            yield child


def to_hf_name(module: nn.Module, local: str) -> str:
    """Map a stage part's parameter name to its name in LlamaForCausalLM."""
    for prefix, hf_prefix in module.hf_names.items():
        if local.startswith(prefix):
            return hf_prefix + local[len(prefix):]
    raise KeyError(local)


def load_stage_weights(pipe: Any, model: str) -> None:
    """Copy this stage's weights from the model's safetensors files (only those it needs)."""
    from safetensors import safe_open

    files = _weight_files(Path(model))
    where: Dict[str, Path] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as handle:
            where.update({key: file for key in handle.keys()})
    for module in local_modules(pipe):
        state = module.state_dict()
        for local in state:
            hf = to_hf_name(module, local)
            if hf not in where and hf == "lm_head.weight":
                hf = "model.embed_tokens.weight"
            with safe_open(str(where[hf]), framework="pt") as handle:
                state[local].copy_(handle.get_tensor(hf))


def _weight_files(model: Path) -> List[Path]:
    index = model / "model.safetensors.index.json"
    if index.is_file():
        names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        return [model / n for n in names]
    single = model / "model.safetensors"
    if single.is_file():
        return [single]
    from huggingface_hub import snapshot_download

    return _weight_files(Path(snapshot_download(str(model), allow_patterns=["*.safetensors*", "*.json"])))


def gather_hf_state(pipe: Any, rank: int) -> Dict[str, torch.Tensor]:
    """All stages' weights under LlamaForCausalLM names, on rank 0 (empty elsewhere)."""
    local = {to_hf_name(m, k): v.detach().cpu().clone() for m in local_modules(pipe)
             for k, v in m.state_dict().items()}
    parts: List[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(parts, local)
    if rank != 0:
        return {}
    merged: Dict[str, torch.Tensor] = {}
    for part in parts:
        merged.update(part)
    return merged


def save_pipeline_model(pipe: Any, model_config: Any, tokenizer: Any, target: Path, rank: int) -> None:
    """Write the gathered weights as a plain LlamaForCausalLM directory."""
    from transformers import AutoModelForCausalLM

    state = gather_hf_state(pipe, rank)
    if rank == 0:
        model_config._attn_implementation = None
        lm = AutoModelForCausalLM.from_config(model_config)
        missing, unexpected = lm.load_state_dict(state, strict=False)
        allowed = {"lm_head.weight"} if model_config.tie_word_embeddings else set()
        if set(missing) - allowed or unexpected:
            raise RuntimeError(f"pipeline gather mismatch: missing {missing}, unexpected {unexpected}")
        with atomic_directory(target) as tmp:
            lm.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
    barrier()
