"""The ``method``, ``benchmark`` and ``judge`` checks: values a type cannot express, then the
benchmark files the stages will read. What only one method kind needs is that kind's own check
(:meth:`~s1x.evaluate.methods.kinds.MethodKind.check`)."""

from __future__ import annotations

from s1x.data.rows import DATA_KINDS, check_data_path
from s1x.engines import check_engine, engine_kind
from s1x.errors import require
from s1x.evaluate.methods.kinds import method_kind, method_kind_names
from s1x.formatting import COUNTDOWN_UNIT, TRACE_FORMATS
from s1x.grading import KINDS
from s1x.grading.graders import EXTRACTIONS

CONTROLLERS = ("auto", "one_pass", "rounds", "authors")


def check_method(cfg) -> None:
    """``method.*``: the keys every kind shares, the controller, then the kind's own checks
    (an unknown kind is refused under every controller)."""
    m = cfg.method
    require(m.kind in method_kind_names(), "method.kind", m.kind,
            f"must be one of {method_kind_names()} (a new kind registers itself in a module named by plugins=[...])")
    kind = method_kind(m.kind)
    if m.budgets is not None:
        require(len(m.budgets) > 0, "method.budgets", list(m.budgets), "give at least one budget, or null for none")
        for b in m.budgets:
            require(isinstance(b, int) and b > 0, "method.budgets", list(m.budgets),
                    "every budget must be a positive integer number of thinking tokens (steps for scc), "
                    "e.g. method.budgets=[16,32,64]")
    if kind.needs_budgets:
        require(bool(m.budgets), "method.budgets", None, f"method {m.name} ({m.kind}) needs budgets, e.g. [32,64]")
    mt = m.max_thinking_tokens
    require(mt == "auto" or (isinstance(mt, int) and not isinstance(mt, bool) and mt > 0), "method.max_thinking_tokens",
            mt, "must be a positive integer or auto (the context left after the prompt and the answer)")
    require(m.min_thinking_tokens >= 0, "method.min_thinking_tokens", m.min_thinking_tokens, "must be >= 0")
    require(m.num_ignore >= 0, "method.num_ignore", m.num_ignore, "must be >= 0 (times to suppress the end of thinking)")
    require(m.max_answer_tokens > 0, "method.max_answer_tokens", m.max_answer_tokens, "must be a positive integer")
    require(m.temperature >= 0, "method.temperature", m.temperature, "must be >= 0 (0 = greedy)")
    require(0 < m.top_p <= 1, "method.top_p", m.top_p, "must be in (0, 1]")
    require(bool(m.answer_prefix), "method.answer_prefix", m.answer_prefix,
            "must be the prefix the SFT data uses, e.g. 'Answer:'")
    authors = m.controller == "authors"
    if (m.num_ignore > 0 or m.min_thinking_tokens > 0) and not authors:  # the authors' rounds end on any stop
        require(m.temperature == 0, "method.temperature", m.temperature,
                "ignore strings and min thinking detect the end of thinking greedily; use method.temperature=0")
    require(m.controller in CONTROLLERS, "method.controller", m.controller, "must be auto, one_pass, rounds or authors")
    mt = m.max_tries
    require(mt in ("auto", None) or (isinstance(mt, int) and not isinstance(mt, bool) and mt > 0), "method.max_tries",
            mt, "must be auto (8 waves; no limit under controller=authors), null (no limit) or a positive number")
    if authors:
        _check_authors(m, kind, cfg)
    if m.controller == "one_pass":
        require(engine_kind(cfg.engine.name).one_pass, "method.controller", m.controller,
                "one_pass needs the hf engine's logits processors; use method.controller=rounds (or auto) with "
                f"engine={cfg.engine.name}")
    if m.answer_each_ignore:
        require(kind.shares_ignores, "method.answer_each_ignore", True,
                "only budget forcing (kind bf) has ignores to share")
        require(m.num_ignore > 0 and m.min_thinking_tokens == 0, "method.answer_each_ignore", True,
                "needs method.num_ignore > 0 and method.min_thinking_tokens=0 (an ignore count must be all that differs)")
    kind.check(m, cfg)
    require(m.trace_format in TRACE_FORMATS, "method.trace_format", m.trace_format,
            f"must be one of {list(TRACE_FORMATS)}")
    if kind.statement_unit is not None:
        require(COUNTDOWN_UNIT.get(m.trace_format) == kind.statement_unit, "method.trace_format", m.trace_format,
                f"{m.kind} states its bound the way the {kind.statement_unit} format trains it")
    if m.trace_format != "plain" and "sft" in cfg.stages:
        require(cfg.sft.trace_format == m.trace_format, "sft.trace_format", cfg.sft.trace_format,
                f"method {m.name} needs a model trained with sft.trace_format={m.trace_format}")


def _check_authors(m, kind, cfg) -> None:
    """What the authors' protocol (s1x.evaluate.controllers.authors) can run."""
    require(kind.has_authors_protocol, "method.controller", m.controller,
            f"method kind {m.kind} has no authors' protocol (its MethodKind.has_authors_protocol is false); "
            "use method.controller=auto (s1x's controllers)")
    kind.check_authors(m)
    if m.min_thinking_tokens > 0:
        require(m.num_ignore == 0, "method.min_thinking_tokens", m.min_thinking_tokens,
                "the authors' code sets min_tokens=1 whenever it ignores ends; use num_ignore=0 with a minimum")
    if cfg.engine.name == "openai":
        require(cfg.engine.server == "vllm", "engine.server", cfg.engine.server,
                "method.controller=authors needs to know which stop token ended each round and min_tokens, which "
                "only a server with vLLM's extras reports: use engine.server=vllm, or method.controller=rounds")


def check_benchmarks(cfg) -> None:
    """``benchmark.<name>.*`` for every selected benchmark, and ``setting.benchmark_limit``."""
    require(bool(cfg.benchmark), "benchmark", [], "select at least one, e.g. benchmark=[tiny-mixed]")
    limit = cfg.setting.get("benchmark_limit")
    require(limit is None or limit > 0, "setting.benchmark_limit", limit,
            "must be a positive number of questions (the first N of every benchmark), or null for all")
    graders = list(KINDS) + ["judge"]
    for name, b in cfg.benchmark.items():
        require(b.kind in DATA_KINDS, f"benchmark.{name}.kind", b.kind, f"must be one of {list(DATA_KINDS)}")
        if b.kind != "tiny":
            require(bool(b.path), f"benchmark.{name}.path", b.path, "give the hub id or local file of the benchmark")
        require(b.size >= 0, f"benchmark.{name}.size", b.size, "must be >= 0 (0: every question)")
        require(b.grader in graders, f"benchmark.{name}.grader", b.grader, f"must be one of {graders}")
        require(b.limit is None or b.limit > 0, f"benchmark.{name}.limit", b.limit,
                "must be a positive number of questions (the first N), or null for all")
        for k in b.extra_graders:
            require(k in graders, f"benchmark.{name}.extra_graders", list(b.extra_graders),
                    f"each must be one of {graders}")
        require(b.extraction in EXTRACTIONS, f"benchmark.{name}.extraction", b.extraction,
                f"must be one of {list(EXTRACTIONS)}")
        require(b.prompt in ("s1x", "authors"), f"benchmark.{name}.prompt", b.prompt, "must be s1x or authors")
        require(b.unparsed_choice in (None, "A", "B", "C", "D"), f"benchmark.{name}.unparsed_choice",
                b.unparsed_choice, "must be a letter A-D, or null to grade an answer without a letter wrong")


def check_judge(cfg) -> None:
    """The LLM judge: needed by a benchmark graded (or letter-read) by it; its protocol always."""
    for name, b in cfg.benchmark.items():
        if "judge" in [b.grader, *b.extra_graders] or b.choice_llm:
            require(bool(cfg.judge.model), "judge.model", cfg.judge.model,
                    f"benchmark.{name} grades with the LLM judge (grader, extra_graders or choice_llm): give its "
                    "model, e.g. judge.model=/path/to/instruct-model (and judge.engine.name=vllm on GPUs)")
            check_engine(cfg.judge.engine, "judge.engine")
            require((cfg.judge.max_new_tokens is None or cfg.judge.max_new_tokens > 0) and cfg.judge.retries >= 0,
                    "judge.max_new_tokens", cfg.judge.max_new_tokens,
                    "must be positive or null (the protocol's), and judge.retries >= 0")
            break
    require(cfg.judge.protocol in ("s1x", "authors"), "judge.protocol", cfg.judge.protocol,
            "must be s1x (a Yes/No question) or authors (their option-index check)")


def preflight_benchmarks(cfg) -> None:
    """Every ``kind=file`` benchmark's path must exist."""
    for name, b in cfg.benchmark.items():
        check_data_path(f"benchmark.{name}.path", b.kind, b.path)
