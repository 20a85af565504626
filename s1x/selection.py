"""Selection strategies: which ``n`` pool problems become the SFT set (Table 2 rows).

Every strategy takes the pool and its options and returns the selected
problems in pick order. Randomness comes from one ``numpy.random.Generator``
seeded by ``seed``, and every choice is over a sorted list, so results do not
depend on set or dict iteration order.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from s1x.records import PoolProblem


def quality_filter(pool: list[PoolProblem]) -> list[PoolProblem]:
    """Drop problems with a missing trace or a quality flag set in ``features['quality']``."""
    return [p for p in pool if p.trace and not any(p.features.get("quality", {}).values())]


def select_random(pool: list[PoolProblem], n: int, seed: int) -> list[PoolProblem]:
    """``n`` problems uniformly at random from the quality-filtered pool (1K-random)."""
    candidates = sorted(quality_filter(pool), key=lambda p: p.id)
    if n > len(candidates):
        raise ValueError(f"selection.n={n} but only {len(candidates)} problems pass the quality filter")
    rng = np.random.default_rng(seed)
    return [candidates[i] for i in rng.choice(len(candidates), size=n, replace=False)]


def _benchmark_domain_weights(pool: list[PoolProblem], benchmark_sources) -> dict[str, float]:
    """Domain weights from the benchmark-like sources, each source's total scaled to its share."""
    weights: Counter = Counter()
    for spec in benchmark_sources:
        counts = Counter(p.domain for p in pool if p.source == spec["source"])
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
) -> list[PoolProblem]:
    """The s1K sampling loop (PAPER.md 1.5) over the quality-filtered pool.

    Repeat until ``n``: pick a domain (uniformly while fewer than
    ``uniform_until`` are selected, afterwards by the benchmark-like sources'
    domain weights, uniformly if those give no remaining domain any weight);
    within it pick the problem of rank r (0 = longest trace) with probability
    proportional to 2^-r; remove it; drop a domain when it is empty.

    The keep rule and the difficulty filter need probe features that s1x does
    not compute yet (issue 3), so neither is applied here.
    """
    candidates = quality_filter(pool)
    if n > len(candidates):
        raise ValueError(f"selection.n={n} but only {len(candidates)} problems pass the filters")
    rng = np.random.default_rng(seed)
    by_domain: dict[str, list[PoolProblem]] = {}
    for p in sorted(candidates, key=lambda p: (-p.features["trace_tokens"], p.id)):
        by_domain.setdefault(p.domain, []).append(p)
    weights = _benchmark_domain_weights(pool, [dict(s) for s in benchmark_sources])
    selected: list[PoolProblem] = []
    while len(selected) < n:
        domains = sorted(by_domain)
        w = np.array([weights.get(d, 0.0) for d in domains])
        if len(selected) < uniform_until or w.sum() == 0:
            domain = domains[rng.integers(len(domains))]
        else:
            domain = domains[rng.choice(len(domains), p=w / w.sum())]
        items = by_domain[domain]
        rank_p = np.exp2(-np.arange(len(items), dtype=float))
        pick = rng.choice(len(items), p=rank_p / rank_p.sum())
        selected.append(items.pop(pick))
        if not items:
            del by_domain[domain]
    return selected


def selection_stats(selected: list[PoolProblem], pool_size: int, strategy: str, seed: int) -> dict:
    """Per-domain and per-source counts and trace-length statistics of a selection."""
    lengths = np.array([p.features.get("trace_tokens", 0) for p in selected])
    return {
        "strategy": strategy,
        "seed": seed,
        "pool_size": pool_size,
        "n": len(selected),
        "per_domain": dict(sorted(Counter(p.domain for p in selected).items())),
        "per_source": dict(sorted(Counter(p.source for p in selected).items())),
        "trace_tokens": {
            "mean": float(lengths.mean()) if len(lengths) else 0.0,
            "min": int(lengths.min()) if len(lengths) else 0,
            "max": int(lengths.max()) if len(lengths) else 0,
        },
    }
