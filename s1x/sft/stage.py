"""The sft stage: the fine-tuned checkpoint of a base model on a selected set, cached.

Keyed by the selected content, not the select stage: a change that selects the
same set (e.g. one more benchmark to decontaminate against) trains nothing new.
The distributed layout is not in the key either: it changes how, not what
(:mod:`s1x.sft.distributed`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from omegaconf import OmegaConf

from s1x.cache import StageRunner
from s1x.records import read_jsonl, write_json
from s1x.sft.train import run_sft


# 2: trace formats, overlong policy; 3: token bounds count the newline before the delimiter;
# 4: sft.precision (fp32 master weights for sft=s1) and sft.save_dtype replace sft.bf16
# (checkpoint_every_* change how it is trained, not what: they are left out of the key)
STAGE_VERSION = 4

def sft_spec(cfg) -> dict:
    """What determines the checkpoint besides the selection and the base model."""
    spec = {"sft": OmegaConf.to_container(cfg.sft, resolve=True), "seed": cfg.seed}
    for how in ("checkpoint_every_steps", "checkpoint_every_minutes"):
        spec["sft"].pop(how, None)
    if spec["sft"]["trace_format"] == "plain":  # the chunk size only shapes the countdown formats
        spec["sft"].pop("chunk_tokens")
    return spec


def sft_stage(cfg, runner: StageRunner, tokenizer, base_path: str, base_identity: str, selection_hash: str,
              out_dir: Path) -> tuple[str, str, dict]:
    """Fine-tune (or find) the checkpoint; copy its log to the run dir. Returns (path, content digest, stats):
    what evaluations key on, so a checkpoint rebuilt with other bytes is evaluated again.
    ``tokenizer()`` loads the base model's tokenizer (only when the checkpoint is trained here)."""
    spec = sft_spec(cfg)
    key = runner.cache.key("sft", STAGE_VERSION, spec, {"selection": selection_hash, "base": base_identity})

    def build(tmp: Path) -> dict:
        selected = read_jsonl(out_dir / "selection.jsonl")
        if cfg.distributed.launcher == "none":
            return run_sft(selected, base_path, tokenizer(), cfg.sft, tmp, cfg.seed)
        from s1x.sft.launch import launch_sft

        return launch_sft(selected, base_path, tokenizer(), cfg.sft, cfg.distributed, tmp, cfg.seed)

    # Resumable: checkpoints (sft.checkpoint_every_*) stay in the in-progress entry across kills. The
    # logs hold timings, so they are left out of the checkpoint's identity.
    ckpt = runner.stage("sft", key, build, {"config": spec, "base": base_path}, resumable=True,
                        volatile=("train_log.jsonl", "sft_stats.json", "launch/*"))
    write_json(out_dir / "checkpoint.json", {"path": str(ckpt.path), "cache_key": ckpt.key, "digest": ckpt.digest,
                                             "base": base_path})
    shutil.copy2(ckpt.path / "train_log.jsonl", out_dir / "train_log.jsonl")
    return str(ckpt.path), ckpt.digest, runner.cache.meta(ckpt)
