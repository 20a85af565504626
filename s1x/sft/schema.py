"""Typed schemas of the ``model``, ``sft`` and ``distributed`` config groups (registered by
:mod:`s1x.config`).

Plain dataclasses, importing nothing of s1x: the shared core imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


LOSS_AVERAGES = ("sequence", "token")  # sft.loss_average (s1x.sft.loss)


@dataclass
class SFTConfig:
    """Supervised fine-tuning hyper-parameters (``s1`` = the paper's, ``tiny`` = CPU)."""

    name: str = "tiny"
    lr: float = 1e-5
    epochs: float = 5.0
    global_batch_size: int = 16
    per_device_batch_size: int = 1
    warmup_ratio: float = 0.05
    lr_scheduler: str = "cosine"
    weight_decay: float = 1e-4
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    max_grad_norm: float = 1.0
    # sequence: each sequence's token mean, then the mean over the global batch's sequences (the
    # authors' run: one sequence per GPU, no accumulation) | token: one mean over every loss token
    # of the global batch (transformers 5's default). See s1x.sft.loss.
    loss_average: str = "token"
    # fp32_master_bf16_compute: fp32 weights and AdamW state, bf16 autocast (the authors' --bf16 True
    # under FSDP) | bf16: pure bf16 weights and state (faster, lossy) | fp32. See s1x.sft.train.
    precision: str = "fp32"
    save_dtype: str = "fp32"  # bf16 | fp32: the saved checkpoint's weights (the released s1-32B is bf16)
    block_size: int = 32768
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    # plain | tokens (countdown of tokens left, for TCC) | steps (steps left, for SCC); see s1x.formatting
    trace_format: str = "plain"
    chunk_tokens: int = 100  # tokens per countdown chunk / per step of the tokens and steps formats
    # Examples longer than block_size: truncate (cut, counted and reported) | drop (counted) | error
    overlong: str = "truncate"
    # Resumable checkpoints inside the in-progress cache entry, every N optimizer steps and/or
    # M minutes (null: never); a rerun of the same config after a kill or preemption resumes
    # from the newest one with the same loss curve.
    checkpoint_every_steps: Optional[int] = None
    checkpoint_every_minutes: Optional[float] = None


@dataclass
class DistributedConfig:
    """How SFT spreads over processes (s1x.sft.distributed builds the launch command).

    ``none`` trains in the run's own process. Other options run
    ``torchrun``/``accelerate launch`` as a child (inside ``srun`` across the
    nodes of a SLURM allocation) and wait for it; the stage cache entry is
    committed only when every process exited 0.
    """

    name: str = "none"
    launcher: str = "none"  # none | torchrun | accelerate
    # Processes per node; null: the GPUs of this node (SLURM_GPUS_ON_NODE, else all visible), 1 without GPUs.
    nproc_per_node: Optional[int] = None
    # Nodes; null: SLURM_NNODES inside an allocation, else 1.
    nnodes: Optional[int] = None
    main_process_port: int = 29500
    # The accelerate config file's contents (launcher=accelerate): distributed_type, fsdp_config, deepspeed_config.
    accelerate: dict = field(default_factory=dict)
