"""SFT numeric precision (``sft.precision``) and the saved checkpoint's dtype (``sft.save_dtype``).

- ``fp32_master_bf16_compute`` (``sft=s1``): the weights load in fp32 and stay
  fp32, and so does the AdamW state; forward and backward run under bf16
  autocast. This is what the authors' ``train/sft.py`` does (``from_pretrained``
  with no dtype, ``--bf16 True`` under FSDP): with accelerate's FSDP the flat
  parameters and the optimizer state are fp32 and ``MixedPrecision`` computes in
  bf16; with DeepSpeed ZeRO-3, bf16 mode keeps fp32 master weights in the
  optimizer. Updates of lr 1e-5 are far below a bf16 weight's resolution (about
  1.2e-4 at magnitude 0.02) but not an fp32 one's, so they accumulate.
- ``bf16``: weights and AdamW state in bf16, no autocast. Half the memory of the
  master copy and faster, but lossy: at lr 1e-5 most updates round away (the
  CPU test in tests/sft/test_sft_precision.py measures how many weights never move).
- ``fp32``: everything in fp32 (the tiny world: a CPU gains nothing from bf16).

The checkpoint is written in ``save_dtype`` whatever the training precision:
``bf16`` as the released ``simplescaling/s1-32B``, or ``fp32`` to keep the
master weights.
"""

from __future__ import annotations

import json
from pathlib import Path

PRECISIONS = ("fp32_master_bf16_compute", "bf16", "fp32")
SAVE_DTYPES = ("bf16", "fp32")
_TORCH_NAMES = {"bf16": "bfloat16", "fp32": "float32"}


def load_dtype(precision: str) -> str:
    """The torch dtype name the base model's weights load in (the parameters' dtype in training)."""
    return "bfloat16" if precision == "bf16" else "float32"


def autocast_bf16(precision: str) -> bool:
    """Whether forward/backward run under bf16 autocast (Trainer ``bf16=True``, accelerate's
    ``mixed_precision: bf16``)."""
    return precision == "fp32_master_bf16_compute"


def accelerate_mixed_precision(precision: str) -> str:
    """The ``mixed_precision`` of an accelerate launch config. It must agree with the Trainer:
    ``accelerate launch`` exports it and the Trainer reads it when its own ``bf16`` is off."""
    return "bf16" if autocast_bf16(precision) else "no"


def cast_checkpoint(out_dir: Path, save_dtype: str) -> dict:
    """Rewrite the safetensors weights in ``out_dir`` in ``save_dtype`` (floating tensors only,
    one file at a time) and record it in ``config.json``; return ``{file: dtype before}``.
    Files already in ``save_dtype`` are left alone."""
    import torch
    from safetensors.torch import load_file, save_file

    target = getattr(torch, _TORCH_NAMES[save_dtype])
    before, total = {}, 0
    for path in sorted(Path(out_dir).glob("*.safetensors")):
        tensors = load_file(str(path))
        dtypes = {t.dtype for t in tensors.values() if t.is_floating_point()}
        before[path.name] = sorted(str(d).removeprefix("torch.") for d in dtypes)
        if dtypes and dtypes != {target}:
            tensors = {k: t.to(target) if t.is_floating_point() else t for k, t in tensors.items()}
            save_file(tensors, str(path), metadata={"format": "pt"})
        total += sum(t.numel() * t.element_size() for t in tensors.values())
        del tensors  # one shard in memory at a time
    index = Path(out_dir) / "model.safetensors.index.json"
    if index.exists():  # the shards' total size changed with the dtype
        data = json.loads(index.read_text())
        data.setdefault("metadata", {})["total_size"] = total
        index.write_text(json.dumps(data, indent=2))
    config = Path(out_dir) / "config.json"
    if config.exists():
        data = json.loads(config.read_text())
        # transformers 5 writes "dtype"; 4.x read "torch_dtype": loaders with dtype="auto" get bf16 either way.
        data["dtype"] = _TORCH_NAMES[save_dtype]
        if "torch_dtype" in data:
            data["torch_dtype"] = _TORCH_NAMES[save_dtype]
        config.write_text(json.dumps(data, indent=2))
    return before
