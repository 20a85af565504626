"""Inference engines behind one request interface (:mod:`s1x.engines.base`), and the registry
that builds, checks and keys them by ``engine.name``.

Built in: ``hf`` (transformers ``generate``), ``vllm`` (vLLM's offline ``LLM``, GPU or CPU
build) and ``openai`` (any OpenAI-compatible server). Each engine module defines ``ENGINE``,
an :class:`EngineKind`; a built-in module is imported only when its engine is named, so the
optional ``vllm`` stays optional. A new engine is one module that calls
:func:`register_engine` (loaded with ``plugins=[module]``) and one ``conf/engine/<name>.yaml``.

Engines import the shared core only (formatting, progress, models, errors): never the
methods, the evaluate stage or the pipeline.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Callable

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from s1x.engines.base import Engine
from s1x.errors import ConfigError, require

# name -> the module whose ENGINE builds it (imported on first use)
BUILTIN = {"hf": "s1x.engines.hf", "vllm": "s1x.engines.vllm", "openai": "s1x.engines.openai"}
_REGISTERED: dict[str, "EngineKind"] = {}
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def _no_check(engine_cfg, where: str) -> None:
    pass


def _all_keys(spec: dict) -> dict:
    return spec


@dataclass(frozen=True)
class EngineKind:
    """How s1x builds, checks and keys one engine.

    ``build(engine_cfg, model_path, tokenizer)`` returns an object with the
    :class:`~s1x.engines.base.Engine` interface; ``check(engine_cfg, where)`` raises
    :class:`~s1x.errors.ConfigError` on a value the engine cannot take (``where`` is
    ``engine`` or ``judge.engine``), before any stage runs; ``cache_spec(spec)`` is the part
    of the engine's plain config the evaluate stage keys on (what changes its outputs).
    ``options_schema``: a dataclass typing the engine's own keys (``engine.options.*``; None: it
    takes none); ``one_pass``: its engine object has ``generate(prompts, processor_factory=...)``
    (HF logits processors), which ``method.controller=one_pass`` needs."""

    name: str
    build: Callable[..., Engine]
    check: Callable = _no_check
    cache_spec: Callable[[dict], dict] = _all_keys
    options_schema: type | None = None
    one_pass: bool = False


def register_engine(kind: EngineKind) -> EngineKind:
    """Make ``engine.name=<kind.name>`` build ``kind`` (a plugin's module calls this on import)."""
    if kind.name in BUILTIN:
        raise ConfigError(f"a plugin registers an engine named {kind.name!r}, a built-in engine's name: choose another")
    _REGISTERED[kind.name] = kind
    return kind


def engine_names() -> list[str]:
    """Every engine name a config may give: the built-in ones, then the registered ones."""
    return list(BUILTIN) + [n for n in _REGISTERED if n not in BUILTIN]


def engine_kind(name: str) -> EngineKind:
    """The :class:`EngineKind` named ``name`` (a built-in one is imported here)."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in BUILTIN:
        return importlib.import_module(BUILTIN[name]).ENGINE
    raise ConfigError(f"engine.name={name!r} is invalid: must be one of {engine_names()} "
                      "(a new engine registers itself in a module named by plugins=[...])")


def check_engine(engine_cfg, where: str = "engine") -> None:
    """The keys every engine shares, then the named engine's own checks."""
    require(engine_cfg.name in engine_names(), f"{where}.name", engine_cfg.name,
            f"must be one of {engine_names()} (a new engine registers itself in a module named by plugins=[...])")
    require(engine_cfg.batch_size > 0, f"{where}.batch_size", engine_cfg.batch_size, "must be positive")
    require(bool(_DEVICE.fullmatch(str(engine_cfg.device))), f"{where}.device", engine_cfg.device,
            "must be auto, cpu, cuda, cuda:N or mps")
    require(engine_cfg.on_context_overflow in ("skip", "fail"), f"{where}.on_context_overflow",
            engine_cfg.on_context_overflow, "must be skip (count and leave out the question) or fail")
    require(engine_cfg.max_batch_tokens > 0, f"{where}.max_batch_tokens", engine_cfg.max_batch_tokens,
            "must be a positive number of tokens")
    kind = engine_kind(engine_cfg.name)
    _check_options(kind, engine_cfg.get("options") or {}, where)
    kind.check(engine_cfg, where)


def _check_options(kind: EngineKind, options, where: str) -> None:
    """``options`` against the engine's own schema: unknown keys and wrong types are refused."""
    if kind.options_schema is None:
        require(not options, f"{where}.options", dict(options), f"the {kind.name} engine takes no options")
        return
    try:
        OmegaConf.merge(OmegaConf.structured(kind.options_schema), options)
    except OmegaConfBaseException as e:  # ValidationError / ConfigKeyError: they name the key and the type
        raise ConfigError(f"{where}.options is invalid for the {kind.name} engine: "
                          f"{str(e).splitlines()[0]}") from None


def engine_options(engine_cfg):
    """The engine's own options, typed by its ``options_schema`` (defaults filled in)."""
    kind = engine_kind(engine_cfg.name)
    if kind.options_schema is None:
        return None
    return OmegaConf.merge(OmegaConf.structured(kind.options_schema), engine_cfg.get("options") or {})


def make_engine(engine_cfg, model_path: str, tokenizer=None) -> Engine:
    """The configured engine over ``model_path`` (its tokenizer loaded unless given)."""
    if tokenizer is None:
        from s1x.models import load_tokenizer

        tokenizer = load_tokenizer(model_path)
    return engine_kind(engine_cfg.name).build(engine_cfg, model_path, tokenizer)


def engine_spec(engine_cfg) -> dict:
    """The engine's part of the evaluate stage's cache key (see :attr:`EngineKind.cache_spec`)."""
    spec = OmegaConf.to_container(engine_cfg, resolve=True) if OmegaConf.is_config(engine_cfg) else dict(engine_cfg)
    return engine_kind(spec["name"]).cache_spec(spec)


def local_engine_config(engine_cfg, batch_size: int):
    """An ``hf`` engine config on the run's device and dtype: what selection's probes and
    classifier run on, whatever engine evaluates (they need the HF engine's batching)."""
    from s1x.engines.schema import EngineConfig

    node = OmegaConf.structured(EngineConfig)
    node.name, node.batch_size = "hf", batch_size
    node.device, node.dtype, node.max_batch_tokens = engine_cfg.device, engine_cfg.dtype, engine_cfg.max_batch_tokens
    return node
