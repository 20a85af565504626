"""SFT training: fine-tune a base model on the selected set with the s1 format.

transformers' Trainer does the loop (TRL would add a dependency for nothing
s1x needs: the completion-only mask is exact by construction in
:mod:`s1x.formatting`). Sequences longer than ``block_size`` are counted and
reported in the stage's stats, never cut silently (``sft.overlong``: truncate,
drop or error). With ``distributed`` other than ``none`` the training runs in
child processes (:mod:`s1x.sft.launch`, :mod:`s1x.sft.distributed`). Weights,
optimizer state and compute dtypes follow ``sft.precision``, the saved weights
``sft.save_dtype`` (:mod:`s1x.sft.precision`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import torch
from torch.utils.data import Dataset
from transformers import PrinterCallback, TrainerCallback, TrainingArguments

from s1x.formatting import EncodedExample, encode_example
from s1x.models import TOKENIZER_SUBDIR, load_model
from s1x.progress import progress
from s1x.sft.loss import trainer_class
from s1x.sft.precision import autocast_bf16, cast_checkpoint, load_dtype
from s1x.batching import pad_batch


# transformers 5.x renamed gradient_checkpointing (deprecated alias until v6).
_CHECKPOINTING_ARG = ("activation_checkpointing" if "activation_checkpointing" in TrainingArguments.__dataclass_fields__
                      else "gradient_checkpointing")


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


CHECKPOINT_DONE = "s1x_checkpoint_complete"  # written after the Trainer saved everything of a checkpoint


class PeriodicCheckpoints(TrainerCallback):
    """Save a resumable Trainer checkpoint every ``steps`` optimizer steps and/or ``minutes`` of
    training, and mark each one complete once everything of it is on disk (the Trainer writes
    weights, optimizer, scheduler, RNG states and trainer state one after another; a kill in
    between leaves a checkpoint without the mark, which resuming ignores)."""

    def __init__(self, steps: int | None, minutes: float | None):
        self.steps, self.minutes = steps, minutes
        self.last = time.time()

    def on_step_end(self, args, state, control, **kwargs):
        by_steps = bool(self.steps) and state.global_step % self.steps == 0
        by_time = bool(self.minutes) and time.time() - self.last >= 60 * self.minutes
        if (by_steps or by_time) and state.global_step < state.max_steps:  # the end saves the model anyway
            control.should_save = True
        return control

    def on_save(self, args, state, control, **kwargs):
        self.last = time.time()
        if state.is_world_process_zero:
            done = Path(args.output_dir) / f"checkpoint-{state.global_step}" / CHECKPOINT_DONE
            done.write_text(str(state.global_step))
        return control


def latest_checkpoint(trainer_dir: Path) -> Path | None:
    """The newest complete checkpoint a killed run left (incomplete ones are deleted)."""
    found = []
    for d in trainer_dir.glob("checkpoint-*") if trainer_dir.is_dir() else []:
        if (d / CHECKPOINT_DONE).exists() and d.name.split("-")[-1].isdigit():
            found.append((int(d.name.split("-")[-1]), d))
        else:
            shutil.rmtree(d, ignore_errors=True)
    return max(found)[1] if found else None


def _trim_log(log_path: Path, step: int) -> None:
    """Drop log lines after ``step``: a resumed run logs those steps again."""
    if log_path.exists():
        keep = [line for line in log_path.read_text().splitlines() if json.loads(line).get("step", 0) <= step]
        log_path.write_text("".join(line + "\n" for line in keep))


class ProgressCallback(TrainerCallback):
    """Training progress through :mod:`s1x.progress` (a bar on a terminal, a line every ~30 s in a
    log) with the last logged loss, in place of the Trainer's own bar and printed log dicts."""

    def __init__(self):
        self.bar, self.step = None, 0

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.bar, self.step = progress(state.max_steps, "sft", unit="step", leave=True), 0
            self._advance(state.global_step)  # a resumed run starts at its checkpoint's step

    def _advance(self, step: int) -> None:
        if self.bar is not None and step > self.step:
            self.bar.update(step - self.step)
            self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        self._advance(state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs and "loss" in logs:
            self.bar.set_postfix(loss=f"{logs['loss']:.4f}")

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def grow_embeddings_for(model, examples: list[EncodedExample]) -> None:
    """Grow the embeddings when the examples use ids the model has no row for (tokens the
    trace format added to the vocabulary, e.g. the tiny world's countdown numbers). New rows
    start at the mean embedding (transformers' default); nothing changes otherwise."""
    top = max((max(e.input_ids) for e in examples if e.input_ids), default=-1)
    rows = model.get_input_embeddings().num_embeddings
    if top >= rows:
        model.resize_token_embeddings(top + 1, pad_to_multiple_of=64)


def gradient_accumulation(global_batch: int, per_device: int, world_size: int) -> int:
    """Accumulation steps that keep the global batch fixed whatever the number of processes."""
    per_step = per_device * world_size
    if global_batch % per_step:
        raise ValueError(
            f"sft.global_batch_size={global_batch} is not divisible by per_device_batch_size x world size "
            f"= {per_device} x {world_size}"
        )
    return global_batch // per_step


def servable_layout(base_model: str) -> bool:
    """Whether a checkpoint of ``base_model`` also gets its tokenizer at the top, where servers
    (``vllm serve``, ``transformers serve``) and ``AutoTokenizer`` look: yes for hub ids and dirs
    that have it there; no for the tiny world's base, whose word-level tokenizer stays in
    ``tokenizer/`` only (see :mod:`s1x.models`)."""
    base = Path(base_model)
    return not base.exists() or (base / "tokenizer.json").is_file()


class OverlongError(ValueError):
    """Examples longer than ``sft.block_size`` with ``sft.overlong=error``."""


def encode_selected(selected: list[dict], tokenizer, cfg) -> tuple[list[EncodedExample], dict]:
    """Encode the selected records in ``cfg.trace_format``; apply the overlong policy; count."""
    examples = [encode_example(tokenizer, p["question"], p["trace"], p["attempt"], cfg.block_size,
                               cfg.trace_format, cfg.chunk_tokens) for p in selected]
    over = [i for i, e in enumerate(examples) if e.truncated]
    if over and cfg.overlong == "error":
        longest = max(examples[i].n_tokens for i in over)
        raise OverlongError(f"{len(over)} of {len(examples)} examples exceed sft.block_size={cfg.block_size} "
                            f"(longest {longest} tokens); raise sft.block_size, or set sft.overlong=truncate|drop")
    if cfg.overlong == "drop":
        examples = [e for e in examples if not e.truncated]
    counts = {"n_overlong": len(over), "n_truncated": len(over) if cfg.overlong == "truncate" else 0,
              "n_dropped": len(over) if cfg.overlong == "drop" else 0,
              "max_tokens": max((e.n_tokens for e in examples), default=0)}
    return examples, counts


def run_sft(selected: list[dict], base_model: str, tokenizer, cfg, out_dir: Path, seed: int,
            callbacks: list[TrainerCallback] = ()) -> dict:
    """Fine-tune ``base_model`` on ``selected`` pool records; save the checkpoint in ``out_dir``.

    Runs as one process or as every process of a distributed launch (the
    Trainer reads the layout from torchrun's/accelerate's environment); only
    rank 0 writes files. ``callbacks`` are added to the Trainer's (tests observe
    dtypes with them)."""
    examples, counts = encode_selected(selected, tokenizer, cfg)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    accum = gradient_accumulation(cfg.global_batch_size, cfg.per_device_batch_size, world_size)
    # Explicit: transformers 5 loads in the checkpoint's dtype by default (bf16 for Qwen2.5),
    # where the authors' transformers 4 loaded fp32 master weights.
    model = load_model(base_model, dtype=load_dtype(cfg.precision))
    grow_embeddings_for(model, examples)
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
        # token: one token mean over all processes (transformers 5's default, stated); sequence
        # counts sequences itself (s1x.sft.loss)
        average_tokens_across_devices=cfg.loss_average == "token",
        bf16=autocast_bf16(cfg.precision),  # bf16 autocast over fp32 weights (CPU autocast on a CPU)
        **{_CHECKPOINTING_ARG: cfg.gradient_checkpointing},
        logging_steps=cfg.logging_steps,
        save_strategy="no",  # checkpoints come from PeriodicCheckpoints (by steps or by time)
        save_total_limit=2,
        report_to=[],
        seed=seed,
        data_seed=seed,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=True,  # progress goes through s1x.progress (ProgressCallback)
    )
    log_path = out_dir / "train_log.jsonl"
    resume = latest_checkpoint(out_dir / "trainer")  # left by a killed or preempted run of this config
    resumed_step = int(resume.name.split("-")[-1]) if resume else 0
    if int(os.environ.get("RANK", "0")) == 0:  # a log of a run that saved no checkpoint starts over
        if resume:
            _trim_log(log_path, resumed_step)
        else:
            log_path.unlink(missing_ok=True)
    log_cb = JsonlLogCallback(log_path, mean_len * cfg.global_batch_size)
    log_cb.step_last = resumed_step
    trainer = trainer_class(cfg.loss_average)(
        model=model,
        args=args,
        train_dataset=_Examples(examples),
        data_collator=_Collator(tokenizer.pad_token_id),
        callbacks=[log_cb, ProgressCallback(), PeriodicCheckpoints(cfg.checkpoint_every_steps, cfg.checkpoint_every_minutes),
                   *callbacks],
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log dict; train_log.jsonl keeps them
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    train_time = time.time() - t0
    # Every rank takes part (FSDP/ZeRO-3 gather the full weights); rank 0 writes.
    trainer.save_model(str(out_dir))
    if not trainer.is_world_process_zero():
        return {}
    saved_from = cast_checkpoint(out_dir, cfg.save_dtype)
    tokenizer.save_pretrained(str(out_dir / TOKENIZER_SUBDIR))
    if servable_layout(base_model):  # a base with its tokenizer at the top: keep the checkpoint servable
        tokenizer.save_pretrained(str(out_dir))
    shutil.rmtree(out_dir / "trainer", ignore_errors=True)
    (out_dir / "training_args.bin").unlink(missing_ok=True)
    losses = [r["loss"] for r in map(json.loads, log_path.read_text().splitlines()) if "loss" in r]
    return {
        "n_examples": len(examples),
        **counts,
        "trace_format": cfg.trace_format,
        "precision": cfg.precision,
        "loss_average": cfg.loss_average,
        "save_dtype": cfg.save_dtype,
        "trained_dtypes": sorted({d for ds in saved_from.values() for d in ds}),
        "steps": result.global_step,
        "steps_per_epoch": steps_per_epoch,
        "gradient_accumulation": accum,
        "world_size": world_size,
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "train_loss": result.training_loss,
        "train_time_s": train_time,
        "resumed_from_step": resumed_step,
    }
