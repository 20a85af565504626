"""Time paired bootstrap CIs: 10,000 resamples x 500 questions x 5 comparisons (target <= 0.2 s).

    python tests/perf/bench_bootstrap.py

Baseline measured in the same run: scipy.stats.bootstrap(paired=True,
method="percentile") on the same data, one comparison at a time; the CIs are
checked to agree to 1e-9.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats

from s1x.analysis import paired_bootstrap_cis

N_Q, N_CMP, N_RES = 500, 5, 10_000


def main() -> None:
    rng = np.random.default_rng(0)
    ref = (rng.random(N_Q) < 0.6).astype(float)
    others = [(rng.random(N_Q) < p).astype(float) for p in (0.4, 0.5, 0.55, 0.6, 0.7)]
    paired_bootstrap_cis(ref, others, N_RES, seed=0)  # warm-up (imports, allocator)
    t0 = time.perf_counter()
    ours = paired_bootstrap_cis(ref, others, N_RES, seed=0)
    t1 = time.perf_counter()
    theirs = []
    for b in others:
        r = stats.bootstrap((b, ref), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis), paired=True,
                            vectorized=True, n_resamples=N_RES, method="percentile", rng=np.random.default_rng(0))
        theirs.append((r.confidence_interval.low, r.confidence_interval.high))
    t2 = time.perf_counter()
    worst = max(abs(a - b) for o, t in zip(ours, theirs) for a, b in zip(o, t))
    print(f"s1x paired_bootstrap_cis  {t1 - t0:.3f} s for {N_RES:,} resamples x {N_Q} questions x {N_CMP} comparisons "
          "(target <= 0.2 s)")
    print(f"scipy.stats.bootstrap     {t2 - t1:.3f} s; s1x is {(t2 - t1) / (t1 - t0):.1f}x faster; "
          f"largest CI difference {worst:.1e}")


if __name__ == "__main__":
    main()
