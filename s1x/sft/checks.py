"""The ``sft`` and ``distributed`` groups' checks: values a type cannot express."""

from __future__ import annotations

from s1x.errors import require
from s1x.formatting import TRACE_FORMATS
from s1x.sft.precision import PRECISIONS, SAVE_DTYPES
from s1x.sft.schema import LOSS_AVERAGES


def check_sft(cfg) -> None:
    """``sft.*``: optimizer numbers, batch shape, data format, precision and checkpoints."""
    s = cfg.sft
    require(s.lr > 0, "sft.lr", s.lr, "must be positive")
    require(s.epochs > 0, "sft.epochs", s.epochs, "must be positive")
    require(s.global_batch_size > 0 and s.per_device_batch_size > 0, "sft.global_batch_size", s.global_batch_size,
            "global and per-device batch sizes must be positive")
    require(s.global_batch_size % s.per_device_batch_size == 0, "sft.global_batch_size", s.global_batch_size,
            f"must be a multiple of sft.per_device_batch_size={s.per_device_batch_size}")
    require(0 <= s.warmup_ratio < 1, "sft.warmup_ratio", s.warmup_ratio, "must be in [0, 1)")
    require(s.block_size > 0, "sft.block_size", s.block_size, "must be a positive number of tokens")
    require(s.trace_format in TRACE_FORMATS, "sft.trace_format", s.trace_format, f"must be one of {list(TRACE_FORMATS)}")
    require(s.chunk_tokens > 0, "sft.chunk_tokens", s.chunk_tokens, "must be a positive number of tokens")
    require(s.overlong in ("truncate", "drop", "error"), "sft.overlong", s.overlong, "must be truncate, drop or error")
    require(s.loss_average in LOSS_AVERAGES, "sft.loss_average", s.loss_average, f"must be one of {list(LOSS_AVERAGES)}")
    require(s.precision in PRECISIONS, "sft.precision", s.precision, f"must be one of {list(PRECISIONS)}")
    require(s.save_dtype in SAVE_DTYPES, "sft.save_dtype", s.save_dtype, f"must be one of {list(SAVE_DTYPES)}")
    for key in ("checkpoint_every_steps", "checkpoint_every_minutes"):
        require(s[key] is None or s[key] > 0, f"sft.{key}", s[key],
                "must be positive, or null for no periodic checkpoints")


def check_distributed(cfg) -> None:
    """``distributed.*``: the launcher, its process layout, and what DeepSpeed can do."""
    d = cfg.distributed
    require(d.launcher in ("none", "torchrun", "accelerate"), "distributed.launcher", d.launcher,
            "must be none, torchrun or accelerate")
    for key in ("nproc_per_node", "nnodes"):
        v = d[key]
        require(v is None or v > 0, f"distributed.{key}", v, "must be a positive integer, or null to read it from SLURM")
    if d.launcher == "accelerate":
        require(bool(d.accelerate) and "distributed_type" in d.accelerate, "distributed.accelerate", None,
                "launcher accelerate needs the accelerate config (distributed_type, ...); use distributed=fsdp "
                "or distributed=deepspeed_z3")
        if d.accelerate.get("distributed_type") == "DEEPSPEED":
            # DeepSpeed's bf16 mode always keeps fp32 master weights, and ZeRO-3 gathers 16-bit weights at save.
            require(cfg.sft.precision != "bf16", "sft.precision", "bf16",
                    "DeepSpeed has no pure-bf16 mode; use fp32_master_bf16_compute (or distributed=fsdp)")
            require(cfg.sft.save_dtype == "bf16" or cfg.sft.precision == "fp32", "sft.save_dtype", cfg.sft.save_dtype,
                    "ZeRO-3 gathers the 16-bit weights at save; use sft.save_dtype=bf16, or distributed=fsdp")
    if d.launcher != "none" and "sft" in cfg.stages:
        from s1x.sft.distributed import layout

        lay = layout(d)
        per_step = cfg.sft.per_device_batch_size * lay.world_size
        require(cfg.sft.global_batch_size % per_step == 0, "sft.global_batch_size", cfg.sft.global_batch_size,
                f"must be a multiple of per_device_batch_size x world size = {cfg.sft.per_device_batch_size} x "
                f"{lay.world_size} ({lay.nnodes} node(s) x {lay.nproc_per_node} processes)")
