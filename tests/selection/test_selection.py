"""Curation funnel and selection strategies on synthetic pools with known structure.

Statistical checks use many seeds and a tolerance of about 4 standard errors,
so a correct implementation fails them with probability well under 1e-3.
"""

from collections import Counter

import numpy as np
import pytest

from s1x.records import PoolProblem
from s1x.selection.funnel import curate, format_funnel, keep_directly, selection_stats
from s1x.selection.strategies import select_all, select_diverse, select_longest, select_random, select_s1k

SIZES = (400, 300, 200, 100)


def _pool(per_domain=SIZES, sources=("free", "bench")):
    out = []
    for d, n in enumerate(per_domain):
        for i in range(n):
            out.append(PoolProblem(id=f"{d}-{i:04d}", question=f"question {d} number {i}", solution="", answer="1",
                                   source=sources[i % len(sources)], domain=f"d{d}", trace="t" * (i + 1), attempt="1",
                                   features={"trace_tokens": i + 1, "quality": {}, "probes": {},
                                             "attempt_correct": True}))
    return out


def _ids(ps):
    return [p.id for p in ps]


def test_same_seed_same_ids_other_seed_differs():
    pool = _pool()
    for strategy in (select_random, select_diverse, select_s1k):
        a = _ids(strategy(pool, 100, seed=0))
        assert a == _ids(strategy(pool, 100, seed=0)), strategy.__name__
        assert a != _ids(strategy(pool, 100, seed=1)), strategy.__name__
        assert len(set(a)) == 100
    # Input order does not matter (choices are over sorted lists).
    assert _ids(select_s1k(pool[::-1], 100, seed=0)) == _ids(select_s1k(pool, 100, seed=0))


def test_random_is_uniform_over_problems():
    pool = _pool()
    counts = Counter(p.domain for s in range(20) for p in select_random(pool, 100, seed=s))
    # d0 holds 40% of the pool; 2,000 draws: SE ~0.011, tolerance 0.045.
    assert abs(counts["d0"] / 2000 - 0.4) < 0.045


def test_longest_returns_exactly_the_top_n():
    pool = _pool()
    top = select_longest(pool, 250, seed=0)
    lengths = sorted((p.features["trace_tokens"] for p in pool), reverse=True)
    assert [p.features["trace_tokens"] for p in top] == lengths[:250]
    assert _ids(top) == _ids(select_longest(pool, 250, seed=9))  # no randomness
    cutoff = top[-1].features["trace_tokens"]
    assert all(p.features["trace_tokens"] <= cutoff for p in pool if p.id not in set(_ids(top)))


def test_diverse_is_uniform_over_domains_then_within():
    pool = _pool()
    picks = [p for s in range(40) for p in select_diverse(pool, 100, seed=s)]
    counts = Counter(p.domain for p in picks)
    for d in ("d0", "d1", "d2", "d3"):  # 4,000 picks: SE ~0.0068, tolerance 0.03
        assert abs(counts[d] / 4000 - 0.25) < 0.03, counts
    # Within d0 (400 problems) picks are uniform: mean length ~200.5, no length preference.
    lengths = [p.features["trace_tokens"] for p in picks if p.domain == "d0"]
    assert abs(np.mean(lengths) - 200.5) < 4 * 115.5 / np.sqrt(len(lengths))


def test_diverse_drops_empty_domains():
    pool = _pool((50, 5))
    picks = select_diverse(pool, 55, seed=0)
    assert len(picks) == 55 and Counter(p.domain for p in picks) == {"d0": 50, "d1": 5}


def test_s1k_uniform_phase_picks_domains_uniformly():
    pool = _pool()
    counts = Counter(p.domain for s in range(10) for p in select_s1k(pool, 200, seed=s, uniform_until=200))
    for d in ("d0", "d1", "d2", "d3"):  # 2,000 picks: SE ~0.0097, tolerance 0.04
        assert abs(counts[d] / 2000 - 0.25) < 0.04, counts


def test_s1k_within_domain_picks_follow_2_pow_minus_rank():
    pool = _pool()
    ranks = []
    for s in range(600):
        # 60 uniform picks miss d3 with probability 0.75^60 ~ 3e-8.
        first = next(p for p in select_s1k(pool, 60, seed=s, uniform_until=60) if p.domain == "d3")
        ranks.append(100 - first.features["trace_tokens"])  # d3 has lengths 1..100: rank 0 = longest
    ranks = np.array(ranks)
    for r, expected in ((0, 1 / 2), (1, 1 / 4), (2, 1 / 8), (3, 1 / 16)):
        share = np.mean(ranks == r)
        se = np.sqrt(expected * (1 - expected) / len(ranks))
        assert abs(share - expected) < 4 * se, (r, share)
    assert ranks.max() < 20  # 2^-20 is out of reach in 600 draws


def test_s1k_weighted_phase_follows_benchmark_sources():
    pool = _pool()
    for p in pool:
        p.source = "bench" if p.domain == "d1" else "free"
    chosen = select_s1k(pool, 150, seed=0, uniform_until=50, benchmark_sources=[{"source": "bench", "share": 1.0}])
    assert all(p.domain == "d1" for p in chosen[50:])
    # Two sources with shares 1 and 0.5: domains d1 : d2 = 2 : 1 after the uniform phase.
    for p in pool:
        p.source = {"d1": "AIME", "d2": "Idavidrein/gpqa"}.get(p.domain, "free")
    sources = [{"source": "aime", "share": 1.0, "match": "icontains"},
               {"source": "gpqa", "share": 0.5, "match": "contains"}]
    late = Counter(p.domain for s in range(10)
                   for p in select_s1k(pool, 150, seed=s, uniform_until=0, benchmark_sources=sources))
    assert set(late) == {"d1", "d2"} and abs(late["d1"] / 1500 - 2 / 3) < 0.05
    # Exact source types (the notebook's default): 'aime' is not 'AIME', and with AIME's count
    # zero there are no weights at all (GPQA is scaled by AIME's total): uniform domains.
    exact = [{"source": "aime", "share": 1.0}, {"source": "Idavidrein/gpqa", "share": 0.5}]
    uniform = Counter(p.domain for p in select_s1k(pool, 150, seed=0, uniform_until=0, benchmark_sources=exact))
    assert set(uniform) == {"d0", "d1", "d2", "d3"}


def test_s1k_starts_from_kept_and_counts_them():
    pool = _pool()
    kept = keep_directly(pool, [{"source": "bench", "min_trace_tokens": 295, "require_correct": True}])
    # 'bench' is every odd index; traces of 295+ tokens exist in d0 (up to 400) and d1 (up to 300).
    assert _ids(kept) == [f"0-{i:04d}" for i in range(295, 400, 2)] + ["1-0295", "1-0297", "1-0299"]
    rest = [p for p in pool if p.id not in set(_ids(kept))]
    for in_candidates in (False, True):
        chosen = select_s1k(rest, 100, seed=0, kept=kept, kept_in_candidates=in_candidates)
        assert _ids(chosen[: len(kept)]) == _ids(kept) and len(chosen) == len(set(_ids(chosen))) == 100
    with pytest.raises(ValueError, match="keep rules keep 56"):
        select_s1k(rest, 40, seed=0, kept=kept)


def test_s1k_kept_candidates_use_up_draws_as_the_notebook():
    # d0's 200 longest problems are kept; with kept_in_candidates (the notebook) a draw in d0
    # returns one of them (ranks 0..199 hold all but 2^-200 of the mass) and adds nothing.
    pool = _pool((400, 400))
    kept = [p for p in pool if p.domain == "d0" and p.features["trace_tokens"] > 200]
    on = select_s1k(pool, 300, seed=0, uniform_until=300, kept=kept, kept_in_candidates=True)
    off = select_s1k(pool, 300, seed=0, uniform_until=300, kept=kept, kept_in_candidates=False)
    d0_new = lambda picks: sum(p.domain == "d0" for p in picks[len(kept):])  # noqa: E731
    assert d0_new(off) > 30 and d0_new(on) == 0  # off: about half of the 100 new picks are in d0
    assert len(on) == len(off) == 300 and len(set(_ids(on))) == 300


def test_curate_counts_every_funnel_step():
    pool = _pool()
    # Planted: 10 re-cased copies, 5 contaminated, 3 null features, 7 with [asy], 20 solved by a probe.
    pool += [PoolProblem(id=f"dup-{i}", question=pool[i].question.upper(), solution="", answer="1", source="free",
                         domain="d0", trace="t", attempt="1", features={"trace_tokens": 1}) for i in range(10)]
    bench = [f"a benchmark question with more than eight words number {i}" for i in range(5)]
    for i, p in enumerate(pool[100:105]):
        p.question = "Copied: " + bench[i]
    for p in pool[200:207]:
        p.question += " [asy]draw(A--B);[/asy]"
    for p in pool[300:320]:
        p.features["probes"] = {"small": True, "large": False}
    for p in pool:
        p.features.setdefault("domain", p.domain)
    pool[500].features["trace_tokens"] = None
    pool[501].features["probes"] = {"small": None, "large": False}
    pool[502].features["domain"] = None
    keep_rules = [{"source": "bench", "min_trace_tokens": 399, "require_correct": True}]
    filters = ["dedup", "decontaminate", "missing", "quality", "difficulty"]
    kept, candidates, funnel = curate(pool, filters, {"b": bench}, keep_rules, quality_rules="s1x",
                                      keep_before_difficulty=True)
    counts = {s["step"]: s["count"] for s in funnel.steps}
    assert counts == {"total": 1010, "dedup": 1000, "decontaminate": 995, "missing": 992, "quality": 985, "kept": 1,
                      "difficulty": 964}
    assert [s["step"] for s in funnel.steps] == ["total", *filters[:4], "kept", "difficulty"]
    assert len(candidates) == 964 and _ids(kept) == ["0-0399"]
    assert funnel.steps[2]["removed_by_benchmark"] == {"b": 5}
    assert funnel.steps[3]["null_feature"] == {"domain": 1, "probe:small": 1, "trace_tokens": 1}
    assert funnel.steps[4]["flagged"] == {"asy": 7}
    assert funnel.steps[6]["solved_by_probe"] == {"small": 20}
    # The notebook's order: the keep rule after the difficulty filter, its problems still candidates.
    kept_nb, cand_nb, f_nb = curate(pool, filters, {"b": bench}, keep_rules, quality_rules="notebook")
    assert [s["step"] for s in f_nb.steps][-2:] == ["difficulty", "kept"]
    assert _ids(kept_nb) == ["0-0399"] and "0-0399" in _ids(cand_nb) and len(cand_nb) == 965
    # Only the named filters apply.
    _, c, f = curate(pool, ["dedup"], {"b": bench})
    assert [s["step"] for s in f.steps] == ["total", "dedup"] and len(c) == 1000
    with pytest.raises(ValueError, match="dedupe"):
        curate(pool, ["dedupe"], {})

    chosen = select_s1k(candidates, 100, seed=0, kept=kept, kept_in_candidates=False)
    stats = selection_stats(chosen, funnel, "s1k", 0, ["dedup"])
    assert stats["funnel"][-1] == {"step": "selected", "count": 100} and stats["pool_size"] == 1010
    assert sum(stats["per_domain"].values()) == 100
    text = format_funnel(stats)
    assert "decontaminate" in text and "995" in text and "1,010" in text


def test_select_all_and_too_large_n():
    pool = _pool((30, 20))
    assert len(select_all(pool, None, 0)) == 50 and len(select_all(pool, 10, 0)) == 10
    with pytest.raises(ValueError, match="selection.n=51 but only 50"):
        select_random(pool, 51, 0)
