"""Curation funnel and selection strategies: which pool problems become the SFT set (Table 2).

:func:`curate` applies the filters a strategy names, in the paper's order
(PAPER.md 1.1-1.3) and counts every step:

    total -> dedup -> decontaminate -> quality -> kept (s1K keep rule) -> difficulty -> selected

A strategy then picks from what is left. Every random choice comes from one
``numpy.random.Generator`` seeded by ``seed`` and is made over lists sorted by
id or by (length, id), so results never depend on set or dict iteration order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from s1x.decontam import decontaminate, dedup
from s1x.records import PoolProblem

FILTERS = ("dedup", "decontaminate", "quality", "difficulty")
# 2^-rank sampling looks at this many of a domain's longest traces: rank 64 has
# probability 2^-64 relative to rank 0, below what a float64 draw can resolve.
RANK_WINDOW = 64


@dataclass
class Funnel:
    """Counts after each curation step, and why problems left."""

    steps: list[dict] = field(default_factory=list)

    def add(self, step: str, problems: list[PoolProblem], **detail) -> None:
        self.steps.append({"step": step, "count": len(problems), **detail})

    def count(self, step: str) -> int:
        return next(s["count"] for s in self.steps if s["step"] == step)


def _probe_solved(p: PoolProblem) -> bool:
    return any(p.features.get("probes", {}).values())


def passes_quality(p: PoolProblem) -> bool:
    """No quality flag set (a missing trace is always a flag)."""
    return bool(p.trace) and not any(p.features.get("quality", {}).values())


def keep_directly(problems: list[PoolProblem], rules) -> list[PoolProblem]:
    """Problems a keep rule takes without sampling (PAPER.md 1.2: 384 high-quality samples).

    A rule matches a problem whose source contains ``rule.source`` (case-insensitive),
    whose trace has at least ``rule.min_trace_tokens`` tokens and, if
    ``rule.require_correct``, whose generated attempt is graded correct.
    """
    kept = []
    for p in sorted(problems, key=lambda p: p.id):
        for r in rules:
            if (r["source"].lower() in p.source.lower()
                    and p.features.get("trace_tokens", 0) >= r.get("min_trace_tokens", 0)
                    and (p.features.get("attempt_correct", False) or not r.get("require_correct", True))):
                kept.append(p)
                break
    return kept


def curate(pool: list[PoolProblem], filters, benchmarks: dict[str, list[str]], keep_rules=(),
           ngram: int = 8) -> tuple[list[PoolProblem], list[PoolProblem], Funnel]:
    """Apply ``filters`` (a subset of :data:`FILTERS`) in order; return (kept, candidates, funnel).

    ``kept`` are taken by ``keep_rules`` from the quality-filtered pool before the
    difficulty filter (the paper keeps those 384 whatever the probes did);
    ``candidates`` is what the strategy samples from.
    """
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"selection.filters has unknown {sorted(unknown)}: allowed are {list(FILTERS)}")
    funnel = Funnel()
    funnel.add("total", pool)
    problems = pool
    if "dedup" in filters:
        problems = [problems[i] for i in dedup([p.question for p in problems])]
        funnel.add("dedup", problems)
    if "decontaminate" in filters:
        keep, hits = decontaminate([p.question for p in problems], benchmarks, ngram)
        problems = [problems[i] for i in keep]
        funnel.add("decontaminate", problems, removed_by_benchmark=dict(sorted(hits.items())),
                   benchmarks=sorted(benchmarks))
    if "quality" in filters:
        flags = Counter(f for p in problems for f, on in p.features.get("quality", {}).items() if on)
        problems = [p for p in problems if passes_quality(p)]
        funnel.add("quality", problems, flagged=dict(sorted(flags.items())))
    kept = keep_directly(problems, keep_rules) if keep_rules else []
    if keep_rules:
        funnel.add("kept", kept, per_source=dict(sorted(Counter(p.source for p in kept).items())))
    kept_ids = {p.id for p in kept}
    problems = [p for p in problems if p.id not in kept_ids]
    if "difficulty" in filters:
        solved = Counter(name for p in problems for name, ok in p.features.get("probes", {}).items() if ok)
        problems = [p for p in problems if not _probe_solved(p)]
        funnel.add("difficulty", problems, solved_by_probe=dict(sorted(solved.items())))
    return kept, problems, funnel


# --- strategies: (candidates, n, seed, ...) -> picks, in pick order --------------------


def _check_n(n: int, available: int, what: str) -> None:
    if n > available:
        raise ValueError(f"selection.n={n} but only {available} problems {what}; lower selection.n or relax the filters")


def select_random(pool: list[PoolProblem], n: int, seed: int) -> list[PoolProblem]:
    """``n`` problems uniformly at random (1K-random)."""
    _check_n(n, len(pool), "pass the filters")
    candidates = sorted(pool, key=lambda p: p.id)
    rng = np.random.default_rng(seed)
    return [candidates[i] for i in rng.choice(len(candidates), size=n, replace=False)]


def _by_domain(pool: list[PoolProblem], longest_first: bool) -> dict[str, list[PoolProblem]]:
    key = (lambda p: (-p.features["trace_tokens"], p.id)) if longest_first else (lambda p: p.id)
    out: dict[str, list[PoolProblem]] = {}
    for p in sorted(pool, key=key):
        out.setdefault(p.domain, []).append(p)
    return out


def select_diverse(pool: list[PoolProblem], n: int, seed: int) -> list[PoolProblem]:
    """1K-diverse: repeatedly pick a domain uniformly, then a problem in it uniformly; drop empty domains."""
    _check_n(n, len(pool), "pass the filters")
    rng = np.random.default_rng(seed)
    by_domain = _by_domain(pool, longest_first=False)
    selected = []
    while len(selected) < n:
        domains = sorted(by_domain)
        domain = domains[rng.integers(len(domains))]
        items = by_domain[domain]
        selected.append(items.pop(int(rng.integers(len(items)))))
        if not items:
            del by_domain[domain]
    return selected


def select_longest(pool: list[PoolProblem], n: int, seed: int) -> list[PoolProblem]:
    """1K-longest: the ``n`` longest traces (ties broken by id; ``seed`` is unused)."""
    _check_n(n, len(pool), "pass the filters")
    return sorted(pool, key=lambda p: (-p.features["trace_tokens"], p.id))[:n]


def select_all(pool: list[PoolProblem], n: int | None, seed: int) -> list[PoolProblem]:
    """59K-full: every problem that passes the filters, in id order (``n``: null, or a cap)."""
    ordered = sorted(pool, key=lambda p: p.id)
    return ordered if n is None else ordered[:n]


def benchmark_domain_weights(pool: list[PoolProblem], benchmark_sources) -> dict[str, float]:
    """Domain weights from the benchmark-like sources (PAPER.md 1.5: AIME + GPQA, GPQA
    scaled to half of AIME's total): each source's domain histogram, normalised to
    its ``share``. A source matches when its name is contained in the problem's
    source (case-insensitive)."""
    weights: Counter = Counter()
    for spec in benchmark_sources:
        counts = Counter(p.domain for p in pool if spec["source"].lower() in p.source.lower())
        total = sum(counts.values())
        for domain, c in counts.items():
            weights[domain] += spec["share"] * c / total
    return dict(weights)


def select_s1k(
    pool: list[PoolProblem],
    n: int,
    seed: int,
    uniform_until: int = 700,
    benchmark_sources=(),
    kept: list[PoolProblem] = (),
    weight_pool: list[PoolProblem] | None = None,
) -> list[PoolProblem]:
    """The s1K sampling loop (PAPER.md 1.5), starting from the ``kept`` problems.

    Repeat until ``n`` are selected: pick a domain (uniformly while fewer than
    ``uniform_until`` are selected, afterwards by :func:`benchmark_domain_weights`
    over ``weight_pool``, uniformly if no remaining domain has weight); within
    it pick the problem of rank r (0 = longest trace) with probability
    proportional to 2^-r; remove it; drop a domain when it is empty.
    """
    selected = list(kept)
    if len(selected) > n:
        raise ValueError(f"the keep rules keep {len(selected)} problems, more than selection.n={n}; "
                         "raise selection.n or tighten selection.keep")
    _check_n(n - len(selected), len(pool), "pass the filters besides the kept ones")
    rng = np.random.default_rng(seed)
    by_domain = _by_domain(pool, longest_first=True)
    weights = benchmark_domain_weights(weight_pool if weight_pool is not None else pool,
                                       [dict(s) for s in benchmark_sources])
    while len(selected) < n:
        domains = sorted(by_domain)
        w = np.array([weights.get(d, 0.0) for d in domains])
        if len(selected) < uniform_until or w.sum() == 0:
            domain = domains[rng.integers(len(domains))]
        else:
            domain = domains[rng.choice(len(domains), p=w / w.sum())]
        items = by_domain[domain]
        rank_p = np.exp2(-np.arange(min(len(items), RANK_WINDOW), dtype=float))
        pick = int(rng.choice(len(rank_p), p=rank_p / rank_p.sum()))
        selected.append(items.pop(pick))
        if not items:
            del by_domain[domain]
    return selected


def selection_stats(selected: list[PoolProblem], funnel: Funnel, strategy: str, seed: int, filters) -> dict:
    """The funnel plus per-domain, per-source and trace-length statistics of a selection."""
    lengths = np.array([p.features.get("trace_tokens", 0) for p in selected])
    return {
        "strategy": strategy,
        "seed": seed,
        "filters": list(filters),
        "pool_size": funnel.count("total"),
        "n": len(selected),
        "funnel": funnel.steps + [{"step": "selected", "count": len(selected)}],
        "per_domain": dict(sorted(Counter(p.domain for p in selected).items())),
        "per_source": dict(sorted(Counter(p.source for p in selected).items())),
        "n_domains": len({p.domain for p in selected}),
        "trace_tokens": {
            "mean": float(lengths.mean()) if len(lengths) else 0.0,
            "min": int(lengths.min()) if len(lengths) else 0,
            "max": int(lengths.max()) if len(lengths) else 0,
        },
    }


def format_funnel(stats: dict) -> str:
    """The funnel as the notebook printed it: one line per step, with what left and why."""
    lines = [f"selection {stats['strategy']} (seed {stats['seed']}, filters {', '.join(stats['filters']) or 'none'})"]
    for s in stats["funnel"]:
        detail = {k: v for k, v in s.items() if k not in ("step", "count") and v}
        extra = "  " + "; ".join(f"{k}: {v}" for k, v in detail.items()) if detail else ""
        lines.append(f"  {s['step']:<14} {s['count']:>7,}{extra}")
    lines.append(f"  domains {stats['n_domains']}: {stats['per_domain']}")
    lines.append(f"  sources: {stats['per_source']}")
    t = stats["trace_tokens"]
    lines.append(f"  trace tokens mean {t['mean']:.1f} (min {t['min']}, max {t['max']})")
    return "\n".join(lines)
