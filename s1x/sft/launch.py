"""Running SFT on every process of a distributed layout (torchrun / accelerate launch / srun).

The run's process writes the inputs (spec, selected records, tokenizer,
accelerate config) to ``<entry>/launch/``, runs the launcher as a child
(:mod:`s1x.sft.distributed` builds the command) and waits; each process runs
:mod:`s1x.sft.worker`, which calls :func:`load_spec_and_train`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from omegaconf import OmegaConf

from s1x.models import load_tokenizer
from s1x.records import read_jsonl, write_json, write_jsonl
from s1x.sft import distributed
from s1x.sft.train import gradient_accumulation, run_sft


def launch_sft(selected: list[dict], base_model: str, tokenizer, cfg, dist_cfg, out_dir: Path, seed: int,
               env: dict | None = None) -> dict:
    """Run :func:`run_sft` on every process of ``dist_cfg``'s layout; return rank 0's stats.

    The inputs go to ``out_dir/launch/`` (spec, selected records, tokenizer,
    accelerate config, the launcher's log); the records are removed after."""
    lay = distributed.layout(dist_cfg, env)
    # Checked here, before any process starts: a global batch the layout cannot split.
    gradient_accumulation(cfg.global_batch_size, cfg.per_device_batch_size, lay.world_size)
    launch = out_dir / "launch"
    launch.mkdir(parents=True, exist_ok=True)
    write_jsonl(launch / "selected.jsonl", selected)
    tokenizer.save_pretrained(str(launch / "tokenizer"))
    spec = {"selected": str(launch / "selected.jsonl"), "base_model": base_model,
            "tokenizer": str(launch / "tokenizer"), "out_dir": str(out_dir), "seed": seed,
            "sft": OmegaConf.to_container(cfg, resolve=True) if not isinstance(cfg, dict) else cfg}
    write_json(launch / "spec.json", spec)
    acc = (distributed.write_accelerate_config(dist_cfg, lay, launch / "accelerate.yaml", cfg.precision)
           if dist_cfg.launcher == "accelerate" else None)
    cmd = distributed.launch_command(dist_cfg, launch / "spec.json", lay, acc, env)
    (launch / "command.txt").write_text(" ".join(cmd) + "\n")
    distributed.run_launcher(cmd, launch / "launcher.log", env)
    (launch / "selected.jsonl").unlink()
    stats_path = out_dir / "sft_stats.json"
    if not stats_path.exists():
        raise RuntimeError(f"distributed SFT exited 0 but rank 0 wrote no {stats_path}; see {launch / 'launcher.log'}")
    return json.loads(stats_path.read_text())


def load_spec_and_train(spec_path: str) -> dict:
    """Entry of one distributed process (see :mod:`s1x.sft.worker`)."""
    spec = json.loads(Path(spec_path).read_text())
    cfg = OmegaConf.create(spec["sft"])
    stats = run_sft(read_jsonl(spec["selected"]), spec["base_model"], load_tokenizer(spec["tokenizer"]), cfg,
                    Path(spec["out_dir"]), spec["seed"])
    if stats:  # rank 0
        write_json(Path(spec["out_dir"]) / "sft_stats.json", stats)
    # Leave together: a rank that exits while gloo/nccl threads still run aborts the launch.
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return stats
