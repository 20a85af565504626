"""Checks of the config against the world, before any stage runs: do the files and models it
names exist, and does a hub id look like one?

:mod:`s1x.validation` checks values a config can hold by itself; this module
checks what needs the filesystem (do the paths exist, does a model id look like one). Each problem is one :class:`~s1x.validation.InputError` naming
the key, the value and the fix, raised in seconds instead of after a
pretraining, a probe pass or an SFT.
"""

from __future__ import annotations

import re
from pathlib import Path

from s1x.validation import InputError

# A hub id is `org/name` (letters, digits, - _ .), optionally with `@revision`.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?")


def check_model_ref(key: str, value: str, what: str = "model") -> None:
    """``value`` must be an existing local path or a hub id ``org/name``. Whether the hub has it
    (or, offline, the local cache) is known only when it loads (:mod:`s1x.models` says so in
    one line): a pool that gives its features never loads the tokenizer it names."""
    if Path(value).expanduser().exists():
        return
    looks_like_path = value.startswith(("/", "./", "../", "~")) or value.count("/") > 1
    if looks_like_path or not _HUB_ID.fullmatch(value):
        raise InputError(f"{key}={value!r} is invalid: no such path, and not a hub id of the form org/name; "
                         f"give an existing {what} directory, a hub id (e.g. Qwen/Qwen2.5-7B-Instruct)"
                         + (", or a named option (model=tiny, model=qwen2.5-32b-instruct, ...)" if key == "model" else ""))


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
