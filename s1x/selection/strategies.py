"""Selection strategies (Table 2 rows): pick the SFT set from the curated candidates.

A strategy is ``(candidates, n, seed, ...) -> picks`` in pick order; a
``conf/selection/<name>.yaml`` names it in ``_target_``. Every random choice
comes from one ``numpy.random.Generator`` seeded by ``seed`` and is made over
lists sorted by id or by (length, id), so results never depend on set or dict
iteration order. To add a strategy: a function here and a YAML option.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from s1x.records import PoolProblem

# 2^-rank sampling looks at this many of a domain's longest traces: rank 64 has
# probability 2^-64 relative to rank 0, below what a float64 draw can resolve.
RANK_WINDOW = 64


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
    key = (lambda p: (-(p.features.get("trace_tokens") or 0), p.id)) if longest_first else (lambda p: p.id)
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
    return sorted(pool, key=lambda p: (-(p.features.get("trace_tokens") or 0), p.id))[:n]


def select_all(pool: list[PoolProblem], n: int | None, seed: int) -> list[PoolProblem]:
    """59K-full: every problem that passes the filters, in id order (``n``: null, or a cap)."""
    ordered = sorted(pool, key=lambda p: p.id)
    return ordered if n is None else ordered[:n]


def benchmark_domain_weights(pool: list[PoolProblem], benchmark_sources, truncate: bool = True) -> dict[str, float]:
    """Domain weights from the benchmark-like sources (the notebook, cell 17: AIME's domain
    counts plus GPQA's scaled to half of AIME's total), normalised to sum to 1.

    The first source is the reference: a source's domain count ``c`` becomes
    ``share * c * |first| / |source|`` (the first source's own counts stay as they
    are), truncated with ``int()`` when ``truncate`` (the notebook) and then summed
    per domain. A source matches a problem by its ``match`` mode (``exact``, the
    notebook's, ``contains`` or ``icontains``; :func:`~s1x.selection.funnel.source_matches`).
    """
    from s1x.selection.funnel import source_matches

    counts = [Counter(p.domain for p in pool if source_matches(s["source"], p.source, s.get("match", "exact")))
              for s in benchmark_sources]
    totals = [sum(c.values()) for c in counts]
    if not counts or totals[0] == 0:
        return {}
    weights: Counter = Counter()
    for spec, c, total in zip(benchmark_sources, counts, totals):
        for domain, k in c.items():
            scaled = spec["share"] * k * totals[0] / total
            weights[domain] += int(scaled) if truncate else scaled
    norm = sum(weights.values())
    return {d: w / norm for d, w in weights.items() if w > 0} if norm > 0 else {}


def select_s1k(
    pool: list[PoolProblem],
    n: int,
    seed: int,
    uniform_until: int = 700,
    benchmark_sources=(),
    kept: list[PoolProblem] = (),
    weight_pool: list[PoolProblem] | None = None,
    kept_in_candidates: bool = True,
    truncate_weights: bool = True,
) -> list[PoolProblem]:
    """The s1K sampling loop (the notebook, cells 17-21), starting from the ``kept`` problems.

    Candidates are ``pool`` grouped by domain; with ``kept_in_candidates`` (the
    notebook) the kept problems are candidates too: drawing one again adds
    nothing but still uses up the draw and removes it. Until ``n`` are
    selected (kept ones count): pick a domain (uniformly while fewer than
    ``uniform_until`` are selected, afterwards by :func:`benchmark_domain_weights`
    over ``weight_pool``, or over the candidates when None; uniformly if no
    remaining domain has weight); within it pick the problem of rank r (0 =
    longest trace; equal lengths by id) with probability proportional to 2^-r;
    remove it; drop a domain when it is empty. Every draw comes from one
    ``numpy.random.Generator`` seeded with ``seed`` (the notebook's numpy was unseeded).
    """
    selected = list(kept)
    chosen = {p.id for p in selected}
    if len(selected) > n:
        raise ValueError(f"the keep rules keep {len(selected)} problems, more than selection.n={n}; "
                         "raise selection.n or tighten selection.keep")
    curated = list({p.id: p for p in [*pool, *kept]}.values())  # the notebook's difficulty-filtered set
    if kept_in_candidates:
        pool = curated
    else:
        pool = [p for p in pool if p.id not in chosen]
        if n - len(selected) > len(pool):  # name the n the user gave, not what is left after the kept ones
            raise ValueError(f"selection.n={n} but only {len(selected)} kept + {len(pool)} other problems pass the "
                             "filters; lower selection.n or relax the filters")
    rng = np.random.default_rng(seed)
    by_domain = _by_domain(pool, longest_first=True)
    weights = benchmark_domain_weights(weight_pool if weight_pool is not None else curated,
                                       [dict(s) for s in benchmark_sources], truncate_weights)
    while len(selected) < n:
        if not by_domain:
            raise ValueError(f"selection.n={n} but the candidates ran out after {len(selected)} selected; "
                             "lower selection.n or relax the filters")
        domains = sorted(by_domain)
        w = np.array([weights.get(d, 0.0) for d in domains])
        if len(selected) < uniform_until or w.sum() == 0:
            domain = domains[rng.integers(len(domains))]
        else:
            domain = domains[rng.choice(len(domains), p=w / w.sum())]
        items = by_domain[domain]
        rank_p = np.exp2(-np.arange(min(len(items), RANK_WINDOW), dtype=float))
        pick = items.pop(int(rng.choice(len(rank_p), p=rank_p / rank_p.sum())))
        if pick.id not in chosen:
            chosen.add(pick.id)
            selected.append(pick)
        if not items:
            del by_domain[domain]
    return selected
