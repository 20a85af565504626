"""The sft stage: fine-tune a base model on the selected set with the s1 format.

transformers' Trainer does the loop (TRL would add a dependency for nothing
s1x needs: the completion-only mask is exact by construction in
:mod:`s1x.formatting`). Sequences longer than ``block_size`` are counted and
reported in the stage's stats, never cut silently.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch
from torch.utils.data import Dataset
from transformers import Trainer, TrainerCallback, TrainingArguments

from s1x.formatting import EncodedExample, encode_example
from s1x.models import load_model, save_checkpoint
from s1x.world.pretrain import pad_batch

STAGE_VERSION = 1


class _Examples(Dataset):
    def __init__(self, examples: list[EncodedExample]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict:
        e = self.examples[i]
        return {"input_ids": e.input_ids, "labels": e.labels}


class _Collator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, batch: list[dict]) -> dict:
        return pad_batch([b["input_ids"] for b in batch], self.pad_id, [b["labels"] for b in batch])


class JsonlLogCallback(TrainerCallback):
    """Write every Trainer log (loss, lr, grad norm, tokens/s) as one JSON line."""

    def __init__(self, path: Path, tokens_per_step: float):
        self.path = path
        self.tokens_per_step = tokens_per_step
        self.t_last, self.step_last = time.time(), 0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        now = time.time()
        steps = state.global_step - self.step_last
        row = {"step": state.global_step, "epoch": state.epoch, **logs}
        if steps > 0:
            row["tokens_per_s"] = steps * self.tokens_per_step / max(now - self.t_last, 1e-9)
        self.t_last, self.step_last = now, state.global_step
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


def gradient_accumulation(global_batch: int, per_device: int, world_size: int) -> int:
    """Accumulation steps that keep the global batch fixed whatever the number of processes."""
    per_step = per_device * world_size
    if global_batch % per_step:
        raise ValueError(
            f"sft.global_batch_size={global_batch} is not divisible by per_device_batch_size x world size "
            f"= {per_device} x {world_size}"
        )
    return global_batch // per_step


def run_sft(selected: list[dict], base_model: str, tokenizer, cfg, out_dir: Path, seed: int) -> dict:
    """Fine-tune ``base_model`` on ``selected`` pool records; save the checkpoint in ``out_dir``."""
    examples = [encode_example(tokenizer, p["question"], p["trace"], p["attempt"], cfg.block_size) for p in selected]
    n_truncated = sum(e.truncated for e in examples)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    accum = gradient_accumulation(cfg.global_batch_size, cfg.per_device_batch_size, world_size)
    model = load_model(base_model, dtype="bfloat16" if cfg.bf16 else "float32")
    mean_len = sum(len(e.input_ids) for e in examples) / max(1, len(examples))
    steps_per_epoch = math.ceil(len(examples) / cfg.global_batch_size)
    args = TrainingArguments(
        output_dir=str(out_dir / "trainer"),
        learning_rate=cfg.lr,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=accum,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of total steps in transformers 5
        weight_decay=cfg.weight_decay,
        adam_beta1=cfg.adam_beta1,
        adam_beta2=cfg.adam_beta2,
        max_grad_norm=cfg.max_grad_norm,
        bf16=cfg.bf16,
        gradient_checkpointing=cfg.gradient_checkpointing,
        logging_steps=cfg.logging_steps,
        save_strategy="no",
        report_to=[],
        seed=seed,
        data_seed=seed,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    log_path = out_dir / "train_log.jsonl"
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=_Examples(examples),
        data_collator=_Collator(tokenizer.pad_token_id),
        callbacks=[JsonlLogCallback(log_path, mean_len * cfg.global_batch_size)],
    )
    t0 = time.time()
    result = trainer.train()
    train_time = time.time() - t0
    if trainer.is_world_process_zero():
        save_checkpoint(trainer.model, tokenizer, out_dir)
    losses = [r["loss"] for r in map(json.loads, log_path.read_text().splitlines()) if "loss" in r]
    return {
        "n_examples": len(examples),
        "n_truncated": n_truncated,
        "max_tokens": max(e.n_tokens for e in examples),
        "steps": result.global_step,
        "steps_per_epoch": steps_per_epoch,
        "gradient_accumulation": accum,
        "world_size": world_size,
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "train_loss": result.training_loss,
        "train_time_s": train_time,
    }
