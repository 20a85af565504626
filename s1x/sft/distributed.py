"""Launching SFT over several processes, GPUs and SLURM nodes (config group ``distributed``).

The run process (one per sweep cell, e.g. a submitit job on the allocation's
first node) does not train itself when ``distributed.launcher`` is set: it
writes the SFT inputs to a spec file and runs a launcher as a child process,

- one node: ``torchrun``/``accelerate launch`` with ``nproc_per_node`` processes;
- several nodes (inside a SLURM allocation): ``srun --ntasks-per-node=1`` starts
  one launcher per node; each reads its node rank from ``$SLURM_NODEID`` and
  they meet on the allocation's first node (``scontrol show hostnames``).

Every process runs :mod:`s1x.sft.worker`; rank 0 writes the checkpoint and
stats. The layout is deliberately not part of the SFT cache key: the global
batch is fixed (accumulation = global / (per-device x world size)), so 8 or 16
GPUs train the same recipe; the world size is recorded in the stage's stats.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

WORKER_MODULE = "s1x.sft.worker"


def expand_nodelist(nodelist: str) -> list[str]:
    """SLURM's compressed host list (``gpu[01-03,07],login1``) as host names, in order."""
    hosts, depth, part = [], 0, ""
    parts = []
    for ch in nodelist:  # split on commas outside brackets
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    for p in filter(None, parts):
        m = re.fullmatch(r"([^\[]*)\[([^\]]+)\](.*)", p)
        if not m:
            hosts.append(p)
            continue
        prefix, ranges, suffix = m.groups()
        for r in ranges.split(","):
            lo, _, hi = r.partition("-")
            for i in range(int(lo), int(hi or lo) + 1):
                hosts.append(f"{prefix}{str(i).zfill(len(lo))}{suffix}")
    return hosts


def head_node(env: dict) -> str:
    """The first host of the SLURM allocation (``scontrol`` when present, else parsed here)."""
    nodelist = env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST")
    if not nodelist:
        return "127.0.0.1"
    if shutil.which("scontrol"):
        out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.split():
            return out.stdout.split()[0]
    return expand_nodelist(nodelist)[0]


def _gpus_on_node(env: dict) -> int:
    if env.get("SLURM_GPUS_ON_NODE", "").isdigit():
        return int(env["SLURM_GPUS_ON_NODE"])
    import torch

    return torch.cuda.device_count()


@dataclass(frozen=True)
class Layout:
    """Where the SFT processes run."""

    nnodes: int
    nproc_per_node: int
    head: str
    port: int

    @property
    def world_size(self) -> int:
        return self.nnodes * self.nproc_per_node


def layout(dist_cfg, env: dict | None = None) -> Layout:
    """Nodes and processes per node from the config, filled in from SLURM / the visible GPUs."""
    env = dict(os.environ) if env is None else env
    nnodes = dist_cfg.nnodes or int(env.get("SLURM_NNODES", "1") or 1)
    nproc = dist_cfg.nproc_per_node or _gpus_on_node(env) or 1
    head = head_node(env) if nnodes > 1 else "127.0.0.1"
    return Layout(nnodes, nproc, head, int(dist_cfg.main_process_port))


def write_accelerate_config(dist_cfg, lay: Layout, path: Path, precision: str = "fp32_master_bf16_compute") -> Path:
    """The accelerate config file of ``dist_cfg.accelerate``, completed with the layout and the
    mixed precision of ``sft.precision``: ``fp32_master_bf16_compute`` gives ``bf16``, which
    under FSDP is ``MixedPrecision`` (bf16 compute) over fp32 flat parameters and fp32
    optimizer state (the model is loaded in fp32), and under DeepSpeed ZeRO-3 bf16 compute
    with fp32 master weights in the optimizer; ``bf16`` and ``fp32`` give ``no`` (the
    weights' own dtype throughout)."""
    from omegaconf import OmegaConf

    from s1x.sft.precision import accelerate_mixed_precision

    conf = OmegaConf.to_container(dist_cfg.accelerate, resolve=True) if not isinstance(dist_cfg.accelerate, dict) \
        else dict(dist_cfg.accelerate)
    conf["mixed_precision"] = accelerate_mixed_precision(precision)
    conf.update({"num_machines": lay.nnodes, "num_processes": lay.world_size,
                 "main_process_port": lay.port, "main_training_function": "main", "rdzv_backend": "static",
                 "same_network": True})
    if lay.nnodes > 1:
        conf["main_process_ip"] = lay.head
    path.write_text(yaml.safe_dump(conf, sort_keys=True))
    return path


def launch_command(dist_cfg, spec_path: Path, lay: Layout, accelerate_config: Path | None = None,
                   env: dict | None = None) -> list[str]:
    """The command that runs :mod:`s1x.sft.worker` on every process of ``lay``."""
    env = dict(os.environ) if env is None else env
    rank = "$SLURM_NODEID" if lay.nnodes > 1 else "0"  # expanded per node by the shell srun starts
    if dist_cfg.launcher == "torchrun":
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nnodes={lay.nnodes}",
               f"--nproc_per_node={lay.nproc_per_node}", f"--node_rank={rank}",
               f"--master_addr={lay.head}", f"--master_port={lay.port}"]
    elif dist_cfg.launcher == "accelerate":
        if accelerate_config is None:
            raise ValueError("launcher accelerate needs its config file")
        cmd = [sys.executable, "-m", "accelerate.commands.launch", f"--config_file={accelerate_config}",
               f"--num_machines={lay.nnodes}", f"--num_processes={lay.world_size}", f"--machine_rank={rank}",
               f"--main_process_ip={lay.head}", f"--main_process_port={lay.port}"]
    else:
        raise ValueError(f"distributed.launcher={dist_cfg.launcher!r}: must be torchrun or accelerate")
    cmd += ["-m", WORKER_MODULE, str(spec_path)]
    if lay.nnodes == 1:
        return cmd
    if "SLURM_JOB_ID" not in env:
        raise RuntimeError(f"distributed.nnodes={lay.nnodes} needs a SLURM allocation of that many nodes "
                           "(run inside sbatch/salloc, or through a hydra/launcher=slurm_* profile)")
    # One launcher per node; the node rank is read on each node, so it stays unquoted.
    inner = " ".join(a if a.endswith("$SLURM_NODEID") else shlex.quote(a) for a in cmd)
    # --overlap: the run process's own job step (submitit's srun) still holds the nodes.
    return ["srun", "--overlap", f"--nodes={lay.nnodes}", "--ntasks-per-node=1", "--kill-on-bad-exit=1",
            "bash", "-c", inner]


def run_launcher(cmd: list[str], log_path: Path, env: dict | None = None) -> None:
    """Run ``cmd``, teeing its output to ``log_path``; raise with the log's tail if it fails."""
    env = {**os.environ, **(env or {})}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        for line in proc.stdout:  # type: ignore[union-attr]
            log.write(line)
            sys.stderr.write(line)
        code = proc.wait()
    if code != 0:
        tail = "".join(Path(log_path).read_text().splitlines(keepends=True)[-30:])
        raise RuntimeError(f"distributed SFT failed (exit {code}): {shlex.join(cmd)}\n--- last lines ---\n{tail}")
