"""Checks of the config against the world, before any stage runs: do the files and models it
names exist, and does a hub id look like one?

:mod:`s1x.validation` checks values a config can hold by itself; this module
checks what needs the filesystem (paths, the local Hugging Face cache in
offline mode). Each problem is one :class:`~s1x.validation.InputError` naming
the key, the value and the fix, raised in seconds instead of after a
pretraining, a probe pass or an SFT.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from s1x.validation import InputError

# A hub id is `org/name` (letters, digits, - _ .), optionally with `@revision`.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def _in_hub_cache(repo_id: str) -> bool:
    """Whether the local Hugging Face cache has this repo (any file of it)."""
    try:
        from huggingface_hub import scan_cache_dir

        return any(r.repo_id == repo_id for r in scan_cache_dir().repos)
    except Exception:  # no cache dir yet, or an unreadable one
        return False


def check_model_ref(key: str, value: str, what: str = "model") -> None:
    """``value`` must be an existing local path or a hub id ``org/name`` (reachable in offline
    mode only through the local cache)."""
    if Path(value).expanduser().exists():
        return
    looks_like_path = value.startswith(("/", "./", "../", "~")) or value.count("/") > 1
    if looks_like_path or not _HUB_ID.fullmatch(value):
        raise InputError(f"{key}={value!r} is invalid: no such path, and not a hub id of the form org/name; "
                         f"give an existing {what} directory, a hub id (e.g. Qwen/Qwen2.5-7B-Instruct)"
                         + (", or a named option (model=tiny, model=qwen2.5-32b-instruct, ...)" if key == "model" else ""))
    if _offline() and not _in_hub_cache(value.split("@")[0]):
        raise InputError(f"{key}={value!r}: HF_HUB_OFFLINE is set and the local Hugging Face cache does not have it; "
                         "download it on a connected machine (huggingface-cli download ...) or give a local path")


def _check_data_path(key: str, kind: str, path: str | None) -> None:
    if kind == "file" and path and not Path(path).expanduser().exists():
        raise InputError(f"{key}={path!r}: no such file or directory; give a local parquet/JSONL/JSON file "
                         "or saved dataset dir (kind=hub for a hub id)")


def preflight(cfg) -> None:
    """Every path and model id the stages of ``cfg`` will read, checked before any of them runs."""
    stages = set(cfg.stages)
    selects = bool(stages & {"select", "sft"})
    if cfg.model.name_or_path is not None and stages & {"sft", "evaluate"}:
        check_model_ref("model", cfg.model.name_or_path)
    if selects:
        _check_data_path("pool.path", cfg.pool.kind, cfg.pool.path)
        f = cfg.pool.featurize
        if f.tokenizer:
            check_model_ref("pool.featurize.tokenizer", f.tokenizer, "tokenizer")
        if "difficulty" in cfg.selection.filters:
            for i, p in enumerate(f.probes):
                if not p.model.startswith("base@"):
                    check_model_ref(f"pool.featurize.probes[{i}].model", p.model)
        if f.classifier.model:
            check_model_ref("pool.featurize.classifier.model", f.classifier.model)
    if "evaluate" in stages or (selects and "decontaminate" in cfg.selection.filters):
        for name, b in cfg.benchmark.items():
            _check_data_path(f"benchmark.{name}.path", b.kind, b.path)
