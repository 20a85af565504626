"""The ``selection`` and ``pool`` groups' checks: values a type cannot express, then the files
and models the select stage will read (before any stage runs)."""

from __future__ import annotations

from omegaconf import OmegaConf

from s1x.data.rows import DATA_KINDS, check_data_path
from s1x.errors import require
from s1x.grading import KINDS
from s1x.models.checks import check_model_ref
from s1x.selection.funnel import FILTERS, SOURCE_MATCHES
from s1x.selection.quality import RULES as QUALITY_RULES


def check_selection(cfg) -> None:
    """``selection.*``: its size, filters, quality rules and the s1K notebook's keys."""
    sel = cfg.selection
    if sel.n is None:
        require(sel._target_ == "s1x.selection.strategies.select_all", "selection.n", None,
                "only selection=59k-full takes every problem (n=null); give a positive number, e.g. selection.n=1000")
    else:
        require(sel.n > 0, "selection.n", sel.n, "must be a positive number of examples")
    for f in sel.filters:
        require(f in FILTERS, "selection.filters", list(sel.filters), f"each filter must be one of {list(FILTERS)}")
    require(sel.quality_rules in QUALITY_RULES, "selection.quality_rules", sel.quality_rules,
            f"must be one of {list(QUALITY_RULES)}")
    if "uniform_until" in sel:
        require(sel.uniform_until >= 0, "selection.uniform_until", sel.uniform_until, "must be >= 0")
        require(sel.domain_weights in ("notebook", "s1x"), "selection.domain_weights", sel.domain_weights,
                "must be notebook (the difficulty-filtered set, int()-truncated) or s1x (the whole pool)")
        for key in ("keep", "benchmark_sources"):
            for i, rule in enumerate(sel[key]):
                require(rule.match in SOURCE_MATCHES, f"selection.{key}[{i}].match", rule.match,
                        f"must be one of {list(SOURCE_MATCHES)}")
    require(_is_int(cfg.selection.seed) and cfg.selection.seed >= 0, "selection.seed", cfg.selection.seed,
            "must be an integer >= 0")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_pool(cfg) -> None:
    """``pool.*``: where it comes from, its trace source and its featurize probes."""
    pool = cfg.pool
    require(pool.kind in DATA_KINDS, "pool.kind", pool.kind, f"must be one of {list(DATA_KINDS)}")
    if pool.kind != "tiny":
        require(not OmegaConf.is_missing(pool, "path") and bool(pool.path), "pool.path", None,
                "give the hub id or local file of the pool, e.g. pool.path=/data/pool.parquet")
    require(pool.trace_source in ("auto", "s1k", "deepseek", "gemini"), "pool.trace_source", pool.trace_source,
            "must be one of auto, s1k, deepseek, gemini")
    f = pool.featurize
    require(f.attempt_grader in KINDS, "pool.featurize.attempt_grader", f.attempt_grader,
            f"must be one of {list(KINDS)}")
    names = [p.name for p in f.probes]
    require(len(set(names)) == len(names), "pool.featurize.probes", names, "give every probe its own name")
    for i, p in enumerate(f.probes):
        key = f"pool.featurize.probes[{i}]"
        require(bool(p.name) and bool(p.model), key, p.name, "needs a name and a model")
        require(p.grader in KINDS, f"{key}.grader", p.grader, f"must be one of {list(KINDS)}")
        require(p.prompt in ("chat", "plain"), f"{key}.prompt", p.prompt, "must be chat or plain")
        require(p.max_new_tokens > 0 and p.batch_size > 0, f"{key}.max_new_tokens", p.max_new_tokens,
                "max_new_tokens and batch_size must be positive")
        require(p.temperature >= 0, f"{key}.temperature", p.temperature, "must be >= 0 (0 = greedy)")
        if p.model.startswith("base@") and "select" in cfg.stages and "difficulty" in cfg.selection.filters:
            step = p.model.split("@", 1)[1]
            saved = list(cfg.model.pretrain.checkpoints) if cfg.model.pretrain is not None else []
            require(cfg.model.name_or_path is None and step.isdigit() and int(step) in saved, f"{key}.model", p.model,
                    f"base@<step> names a checkpoint of the tiny base model's pretraining; saved steps are {saved} "
                    "(model.pretrain.checkpoints)")
    if f.classifier.model:
        require(f.classifier.retries >= 0, "pool.featurize.classifier.retries", f.classifier.retries, "must be >= 0")


def preflight_selection(cfg) -> None:
    """The pool file, the featurize tokenizer, the probe and classifier models: each must exist
    (or look like a hub id) before the select stage starts."""
    check_data_path("pool.path", cfg.pool.kind, cfg.pool.path)
    f = cfg.pool.featurize
    if f.tokenizer:
        check_model_ref("pool.featurize.tokenizer", f.tokenizer, "tokenizer")
    if "difficulty" in cfg.selection.filters:
        for i, p in enumerate(f.probes):
            if p.model != "base" and not p.model.startswith("base@"):
                check_model_ref(f"pool.featurize.probes[{i}].model", p.model)
    if f.classifier.model:
        check_model_ref("pool.featurize.classifier.model", f.classifier.model)
