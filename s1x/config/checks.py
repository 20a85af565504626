"""The checks run on the composed config before any stage: ``validate`` (values a type cannot
express) then ``preflight`` (the files and models the stages will read).

Each group's checks live beside its schema (``selection/checks.py``, ``sft/checks.py``,
``evaluate/checks.py``, ``models/checks.py``, and each engine's own in :mod:`s1x.engines`);
this module only dispatches to them and checks the top-level keys. Each error is one
:class:`~s1x.errors.ConfigError`/:class:`~s1x.errors.InputError` line naming the key, the bad
value, what is allowed and how to fix it. (Unknown options and misspelled keys are caught
earlier, by Hydra and the typed schemas in :mod:`s1x.config`.)
"""

from __future__ import annotations

import importlib

from s1x.cache.store import ON_CORRUPT, VERIFY_MODES
from s1x.config import STAGES
from s1x.engines import check_engine
from s1x.errors import ConfigError, require
from s1x.evaluate.checks import check_benchmarks, check_judge, check_method, preflight_benchmarks
from s1x.models.checks import check_model, check_model_ref
from s1x.selection.checks import check_pool, check_selection, preflight_selection
from s1x.sft.checks import check_distributed, check_sft


def load_plugins(cfg) -> None:
    """Import every module ``plugins`` names (each registers its engines or method kinds)."""
    for name in cfg.get("plugins") or []:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise ConfigError(f"plugins={list(cfg.plugins)} is invalid: cannot import {name!r} ({e}); "
                              "give an importable module (on PYTHONPATH) that registers an engine or method") from None


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate(cfg) -> None:
    """Raise :class:`~s1x.errors.ConfigError` on the first invalid value in ``cfg`` (its
    ``plugins`` imported first, so their engines and method kinds are known)."""
    load_plugins(cfg)
    stages = list(cfg.stages)
    for s in stages:
        require(s in STAGES, "stages", stages, f"each stage must be one of {list(STAGES)}, e.g. stages=[evaluate]")
    require(len(stages) > 0, "stages", stages, f"give at least one of {list(STAGES)}")
    require(len(set(stages)) == len(stages), "stages", stages, "list each stage once")
    require(_is_int(cfg.seed) and cfg.seed >= 0, "seed", cfg.seed, "must be an integer >= 0")
    require(cfg.threads is None or (_is_int(cfg.threads) and cfg.threads > 0), "threads", cfg.threads,
            "must be a positive number of CPU threads, or null for torch's default")
    require(cfg.cache.verify in VERIFY_MODES, "cache.verify", cfg.cache.verify, f"must be one of {list(VERIFY_MODES)}")
    require(cfg.cache.on_corrupt in ON_CORRUPT, "cache.on_corrupt", cfg.cache.on_corrupt,
            f"must be one of {list(ON_CORRUPT)}")
    check_engine(cfg.engine)
    check_method(cfg)
    check_selection(cfg)
    check_pool(cfg)
    check_sft(cfg)
    check_distributed(cfg)
    check_benchmarks(cfg)
    check_judge(cfg)
    lg = cfg.logger
    require(lg.name in ("none", "wandb"), "logger.name", lg.name, "must be none or wandb")
    require(lg.mode in ("online", "offline", "disabled"), "logger.mode", lg.mode, "must be online, offline or disabled")
    require(lg.samples_per_row >= 0, "logger.samples_per_row", lg.samples_per_row, "must be >= 0")
    check_model(cfg)


def preflight(cfg) -> None:
    """Every path and model id the stages of ``cfg`` will read, checked before any of them runs:
    raised in seconds instead of after a pretraining, a probe pass or an SFT."""
    stages = set(cfg.stages)
    selects = bool(stages & {"select", "sft"})
    if cfg.model.name_or_path is not None and stages & {"sft", "evaluate"}:
        check_model_ref("model", cfg.model.name_or_path)
    if selects:
        preflight_selection(cfg)
    if "evaluate" in stages or (selects and "decontaminate" in cfg.selection.filters):
        preflight_benchmarks(cfg)
