"""One process of the loss-averaging test (tests/sft/test_sft_loss_average.py): run the real
:func:`s1x.sft.train.run_sft` for each ``sft.loss_average`` mode and save the gradient of its
first optimizer step (after the all-reduce, before the optimizer) from rank 0.

    python -m torch.distributed.run --nproc_per_node=2 tests/sft_grad_probe.py SPEC.json
"""

import json
import os
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf
from transformers import TrainerCallback

from s1x.models import load_tokenizer
from s1x.sft.train import run_sft


class FirstStepGradients(TrainerCallback):
    """Save every parameter's gradient at the first optimizer step (rank 0 only)."""

    def __init__(self, path: Path):
        self.path = path

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        if state.global_step == 0 and int(os.environ.get("RANK", "0")) == 0:
            torch.save({n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None},
                       self.path)


def run(spec: dict) -> None:
    """Train once per mode in ``spec["modes"]``; gradients go to ``<out>/<mode>.pt``."""
    out = Path(spec["out"])
    tok = load_tokenizer(spec["tokenizer"])
    for mode in spec["modes"]:
        cfg = OmegaConf.create({**spec["sft"], "loss_average": mode})
        run_sft(spec["selected"], spec["base"], tok, cfg, out / f"run-{mode}", seed=0,
                callbacks=[FirstStepGradients(out / f"{mode}.pt")])


if __name__ == "__main__":
    run(json.loads(Path(sys.argv[1]).read_text()))
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
