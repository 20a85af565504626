"""Typed schemas of every config group, registered with Hydra's ConfigStore.

The root and the shared groups (``setting``, ``logger``, ``paths``, ``cache``,
``cluster``) are here; each stage's groups are in its package's ``schema.py``
(:mod:`s1x.selection.schema`, :mod:`s1x.sft.schema`, :mod:`s1x.evaluate.schema`).

Each YAML option under ``conf/<group>/`` starts from one of these schemas
(``defaults: [/schema/<group>/<schema>@_here_, _self_]``), so a misspelled key
or a wrong type fails when the config is composed, before any work starts.
Value checks that a type cannot express (a budget must be positive, a stage
must exist) live beside each stage's schema (its ``checks.py``) and run before any work
(:mod:`s1x.config.checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

# The stages' schema modules, not their names: s1x.config registers them and re-exports none.
from s1x.engines import schema as engine_schema
from s1x.evaluate import schema as evaluate_schema
from s1x.models import schema as model_schema
from s1x.selection import schema as selection_schema
from s1x.sft import schema as sft_schema

STAGES = ("select", "sft", "evaluate")


@dataclass
class SettingConfig:
    """What the ``setting`` option bundles (the pool, model, SFT and benchmarks it picks)."""

    name: str = "tiny"
    description: str = ""
    # s1x | authors: the public benchmarks' yamls take their prompt and extraction from here
    benchmark_protocol: str = "s1x"
    # The letter an unparsed multiple-choice answer counts as (the authors': A); null: wrong.
    unparsed_choice: Optional[str] = None
    # Evaluate only the first N questions of every benchmark (null: all); benchmark.<name>.limit wins.
    benchmark_limit: Optional[int] = None


@dataclass
class LoggerConfig:
    """The experiment tracker (s1x.tracking): ``none``, or ``wandb``."""

    name: str = "none"
    project: str = "s1x"
    entity: Optional[str] = None
    # null: the sweep (its dir) in a multirun, no group for a single run
    group: Optional[str] = None
    tags: list[str] = field(default_factory=list)  # added to the choices (selection=s1k, method=bf, ...)
    mode: str = "offline"  # online | offline | disabled
    samples_per_row: int = 20  # rows of each results row's samples in the samples table


@dataclass
class PathsConfig:
    # Shared by every run and sweep cell: the stage cache that makes reruns free.
    cache_dir: str = "${oc.env:S1X_CACHE_DIR,'~/.cache/s1x'}"


@dataclass
class CacheConfig:
    """How the stage cache checks what it serves (:mod:`s1x.cache`)."""

    # full: sizes and SHA-256 of every file on every read (large files by a stat memo) |
    # size: sizes only | off: trust the cache
    verify: str = "full"
    # rebuild: move a corrupt entry to .corrupt/ and rebuild it | fail: stop with the path to delete
    on_corrupt: str = "rebuild"


@dataclass
class ClusterConfig:
    """Your SLURM cluster's names, read by the launcher profiles (launchers/hydra/launcher).

    Set them once in the git-ignored ``conf/local/cluster.yaml`` (``# @package _global_``
    then ``cluster: {account: ..., partition: ...}``) or per command (``cluster.account=...``).
    """

    account: Optional[str] = None
    partition: Optional[str] = None  # CPU jobs (hydra/launcher=slurm)
    gpu_partition: Optional[str] = None  # GPU jobs (slurm_gpu1, slurm_gpu8, slurm_2x8)
    qos: Optional[str] = None


@dataclass
class RootConfig:
    """Top-level keys; each group node is typed by its own option's schema."""

    stages: list[str] = field(default_factory=lambda: list(STAGES))
    # Modules imported before the checks: each may register an engine or a method kind
    # (s1x.engines.register_engine, s1x.evaluate.methods.kinds.register_method_kind).
    plugins: list[str] = field(default_factory=list)
    seed: int = 0
    threads: Optional[int] = None  # torch CPU threads; null = torch's default
    setting: Any = None
    pool: Any = None
    selection: Any = None
    model: Any = None
    sft: Any = None
    method: Any = None
    benchmark: Any = None
    engine: Any = None
    logger: Any = None
    paths: Any = None
    distributed: Any = None
    sweeps: Any = None
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    judge: evaluate_schema.JudgeConfig = field(default_factory=evaluate_schema.JudgeConfig)


SCHEMAS = {
    "setting": {"setting": SettingConfig},
    "pool": {"pool": selection_schema.PoolConfig},
    "selection": {"plain": selection_schema.SelectionConfig, "s1k": selection_schema.S1KSelectionConfig},
    "model": {"model": model_schema.ModelConfig},
    "sft": {"sft": sft_schema.SFTConfig},
    "method": {"method": evaluate_schema.MethodConfig},
    "benchmark": {"benchmark": evaluate_schema.BenchmarkConfig},
    "engine": {"engine": engine_schema.EngineConfig},
    "logger": {"logger": LoggerConfig},
    "paths": {"paths": PathsConfig},
    "distributed": {"distributed": sft_schema.DistributedConfig},
}


SWEEPS_DIR = Path(__file__).resolve().parents[2] / "sweeps"


def _groups_help() -> str:
    from s1x.config.help import groups_help

    return groups_help()


RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"


def resource_path(name: str) -> str:
    """``${s1x.resource:NAME}`` in a config: the absolute path of a data file shipped in ``s1x/resources``."""
    path = RESOURCES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"${{s1x.resource:{name}}}: no such file in {RESOURCES_DIR}")
    return str(path)


def register_configs() -> None:
    """Register the root schema, every group schema under ``schema/<group>/<name>``, the
    experiment configs of ``sweeps/`` as the ``sweeps`` group (``sweeps=table2``), the
    ``s1x.resource`` resolver, and the ``s1x_groups_help`` resolver that ``--help`` lists
    the groups and options with."""
    OmegaConf.register_new_resolver("s1x.resource", resource_path, replace=True)
    cs = ConfigStore.instance()
    cs.store(name="root_schema", node=RootConfig)
    if not OmegaConf.has_resolver("s1x_groups_help"):  # conf/config.yaml's help template uses it
        OmegaConf.register_new_resolver("s1x_groups_help", _groups_help)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            cs.store(group=f"schema/{group}", name=name, node=node)
    for path in sorted(SWEEPS_DIR.glob("*.yaml")):  # each file starts with `# @package _global_`
        cs.store(group="sweeps", name=path.stem, node=OmegaConf.load(path), package="_global_")
