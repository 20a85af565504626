"""Selection strategies on a synthetic pool with known structure."""

from collections import Counter

import numpy as np

from s1x.records import PoolProblem
from s1x.selection import select_random, select_s1k, selection_stats


def _pool(per_domain=(400, 300, 200, 100), sources=("free", "bench")):
    out = []
    for d, n in enumerate(per_domain):
        for i in range(n):
            out.append(PoolProblem(id=f"{d}-{i:04d}", question=f"q{d}-{i}", solution="", answer="1",
                                   source=sources[i % len(sources)], domain=f"d{d}", trace="t" * (i + 1), attempt="1",
                                   features={"trace_tokens": i + 1, "quality": {}}))
    return out


def test_random_is_deterministic_per_seed_and_uniform():
    pool = _pool()
    a = [p.id for p in select_random(pool, 100, seed=0)]
    assert a == [p.id for p in select_random(pool, 100, seed=0)]
    assert a != [p.id for p in select_random(pool, 100, seed=1)]
    assert len(set(a)) == 100
    # Uniform over problems: domain shares follow domain sizes (400/1000 = 40% ...).
    counts = Counter(p.domain for s in range(20) for p in select_random(pool, 100, seed=s))
    assert abs(counts["d0"] / 2000 - 0.4) < 0.04


def test_quality_flags_and_missing_traces_are_filtered():
    pool = _pool((10,))
    pool[0].features["quality"] = {"asy": True}
    pool[1].trace = ""
    ids = {p.id for p in select_random(pool, 8, seed=0)}
    assert pool[0].id not in ids and pool[1].id not in ids


def test_s1k_uniform_phase_and_length_preference():
    pool = _pool()
    chosen = select_s1k(pool, 200, seed=0, uniform_until=200)
    assert len({p.id for p in chosen}) == 200
    # Uniform over 4 domains in the uniform phase: 50 each, whatever the domain sizes.
    counts = Counter(p.domain for s in range(10) for p in select_s1k(pool, 200, seed=s, uniform_until=200))
    for d in ("d0", "d1", "d2", "d3"):
        assert abs(counts[d] / 2000 - 0.25) < 0.03, counts
    # 2^-rank: the first pick of a domain is its longest trace with probability ~1/2.
    firsts = [next(p for p in select_s1k(pool, 20, seed=s, uniform_until=20) if p.domain == "d3") for s in range(200)]
    share_longest = np.mean([p.features["trace_tokens"] == 100 for p in firsts])
    assert 0.4 < share_longest < 0.6


def test_s1k_weighted_phase_follows_benchmark_sources():
    pool = _pool()
    # Only domain d1 has a 'bench' source with weight: after the uniform phase all picks are d1.
    for p in pool:
        p.source = "bench" if p.domain == "d1" else "free"
    chosen = select_s1k(pool, 150, seed=0, uniform_until=50, benchmark_sources=[{"source": "bench", "share": 1.0}])
    assert all(p.domain == "d1" for p in chosen[50:])


def test_selection_stats_counts():
    pool = _pool()
    chosen = select_random(pool, 50, seed=3)
    st = selection_stats(chosen, len(pool), "1k-random", 3)
    assert st["n"] == 50 and sum(st["per_domain"].values()) == 50 and st["pool_size"] == 1000
