"""Time the s1K selection on a pool the size of the paper's (59,029 rows).

    python tests/perf/bench_selection.py

Prints the time of the full curation funnel (dedup, decontamination against
a 500-question benchmark, quality, difficulty) plus the s1K sampling loop,
and, as a baseline measured in the same run, the same loop drawing the
2^-rank pick over a domain's whole list instead of its first 64 ranks (what a
direct transcription of the notebook does). Both loops are fast at this size;
the funnel (mostly decontamination) dominates. Target: s1K selection <= 5 s
on 2 cores.
"""

from __future__ import annotations

import time

import numpy as np

from s1x.records import PoolProblem
from s1x.selection.funnel import curate
from s1x.selection.strategies import select_s1k

N_POOL, N_DOMAINS = 59_029, 51


def synthetic_pool(seed: int = 0) -> tuple[list[PoolProblem], list[str]]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(5000)]
    pool = []
    for i in range(N_POOL):
        q = " ".join(rng.choice(words, size=int(rng.integers(15, 60))))
        pool.append(PoolProblem(
            id=f"{i:06d}", question=q, solution="", answer="1",
            source=("AIME" if i % 97 == 0 else "gpqa" if i % 89 == 0 else "numina"),
            domain=f"{int(rng.integers(N_DOMAINS)):02d}", trace="t", attempt="1",
            features={"trace_tokens": int(rng.lognormal(8, 0.7)), "attempt_correct": bool(rng.random() < 0.7),
                      "quality": {"asy": bool(rng.random() < 0.05)},
                      "probes": {"7b": bool(rng.random() < 0.4), "32b": bool(rng.random() < 0.5)}}))
    bench = [" ".join(rng.choice(words, size=30)) for _ in range(500)]
    return pool, bench


def full_list_s1k(pool, n, seed):
    """The baseline: 2^-rank over the domain's whole list at every pick."""
    rng = np.random.default_rng(seed)
    by_domain = {}
    for p in sorted(pool, key=lambda p: (-p.features["trace_tokens"], p.id)):
        by_domain.setdefault(p.domain, []).append(p)
    out = []
    while len(out) < n:
        domains = sorted(by_domain)
        d = domains[rng.integers(len(domains))]
        items = by_domain[d]
        w = np.exp2(-np.arange(len(items), dtype=float))
        out.append(items.pop(int(rng.choice(len(items), p=w / w.sum()))))
        if not items:
            del by_domain[d]
    return out


def main() -> None:
    pool, bench = synthetic_pool()
    keep = [{"source": "aime", "min_trace_tokens": 0, "require_correct": True}]
    sources = [{"source": "aime", "share": 1.0}, {"source": "gpqa", "share": 0.5}]
    t0 = time.perf_counter()
    kept, candidates, funnel = curate(pool, ["dedup", "decontaminate", "quality", "difficulty"], {"b": bench}, keep)
    t1 = time.perf_counter()
    chosen = select_s1k(candidates, 1000, seed=0, uniform_until=700, benchmark_sources=sources, kept=kept,
                        weight_pool=pool)
    t2 = time.perf_counter()
    full_list_s1k(candidates, 1000 - len(kept), seed=0)
    t3 = time.perf_counter()
    print("funnel:", [(s["step"], s["count"]) for s in funnel.steps])
    print(f"curation funnel      {t1 - t0:6.2f} s")
    print(f"s1K sampling loop    {t2 - t1:6.2f} s  ({len(chosen)} selected)")
    print(f"s1K selection total  {t2 - t0:6.2f} s  (target <= 5 s on 2 cores)")
    print(f"baseline loop (whole-list 2^-rank) {t3 - t2:6.2f} s; "
          f"s1x loop / baseline = {(t2 - t1) / max(t3 - t2, 1e-9):.2f}")


if __name__ == "__main__":
    main()
