"""Statistics for comparing runs: paired bootstrap CIs, unbiased pass@k, maj@k.

``paired_bootstrap_ci`` reproduces ``scipy.stats.bootstrap((a, b), mean
difference, paired=True, method="percentile")`` draw for draw: the same
generator draws (``rng.integers(0, n, (n_resamples, n))``, reproduced block
by block in ``draws.py``) pick question indices, and the interval is the
linear-interpolation quantile of the resampled differences. It is faster
because the draws are vectorised, because the mean difference of a resample
only needs the per-question differences (one gather and one sum per resample
instead of two gathers and two means), and because comparisons against one
reference share one set of resampled indices.
"""

from __future__ import annotations

from math import comb
from typing import Sequence

import numpy as np

from s1x.analysis.draws import index_blocks


def _per_question(x, name: str) -> np.ndarray:
    """Scores as a 1-D float array; a 2-D (questions x samples) array is averaged per question first."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 2:
        arr = arr.mean(axis=1)
    elif arr.ndim != 1:
        raise ValueError(f"{name}: scores must be 1-D (questions) or 2-D (questions x samples), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: no questions to resample")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: scores must be finite numbers (found NaN or inf)")
    return arr


def _check_resampling(n_resamples, confidence) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples!r} must be a positive integer (e.g. 10_000)")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must be in (0, 1), e.g. 0.95")


def _resampled_means(diffs: list[np.ndarray], n_resamples: int, seed: int) -> list[np.ndarray]:
    """mean(diff[i]) over the question indices i of every resample, for each diff in ``diffs``,
    one block of resamples at a time (the indices are drawn once for all of them)."""
    n = diffs[0].shape[0]
    ones = np.ones(n)
    out = [np.empty(n_resamples) for _ in diffs]
    gathered = None  # one buffer for every block's gathered scores
    start = 0
    for block in index_blocks(n, n_resamples, seed):
        stop = start + block.shape[0]
        if gathered is None or gathered.shape[0] < block.shape[0]:
            gathered = np.empty(block.shape)
        scores = gathered[:block.shape[0]]
        for diff, means in zip(diffs, out):
            # mode="clip" skips numpy's bounds check (the indices are < n by construction). Row sums as a
            # matrix-vector product: half the time of .sum(axis=1); the order of the additions differs from
            # scipy's mean by rounding only (exact for 0/1 scores).
            np.take(diff, block, out=scores, mode="clip")
            means[start:stop] = scores @ ones
        start = stop
    return [means / n for means in out]


def paired_bootstrap_cis(a, bs: Sequence, n_resamples: int = 10_000, confidence: float = 0.95,
                         seed: int = 0) -> list[tuple[float, float]]:
    """Percentile CIs of mean(b) - mean(a) for each b in ``bs``, all on the same resampled questions."""
    _check_resampling(n_resamples, confidence)
    ref = _per_question(a, "a")
    others = [_per_question(b, f"bs[{j}]") for j, b in enumerate(bs)]
    for j, other in enumerate(others):
        if other.shape[0] != ref.shape[0]:
            raise ValueError(f"paired scores need the same questions: a has {ref.shape[0]}, "
                             f"bs[{j}] has {other.shape[0]}")
    # scipy resamples question indices and takes mean(b[i]) - mean(a[i]); the same draws applied to the
    # per-question differences give that statistic with one gather instead of two.
    alpha = (1 - confidence) / 2
    out = []
    for means in _resampled_means([other - ref for other in others], n_resamples, seed):
        q = np.quantile(means, [alpha, 1 - alpha])  # linear interpolation, as scipy
        out.append((float(q[0]), float(q[1])))
    return out


def paired_bootstrap_ci(a, b, n_resamples: int = 10_000, confidence: float = 0.95, seed: int = 0,
                        hierarchical: bool = False) -> tuple[float, float]:
    """Percentile bootstrap CI of ``mean(a) - mean(b)`` over paired per-question scores.

    ``a`` and ``b`` hold one score per question (same order), or several
    samples per question as a 2-D array, averaged per question first. With
    ``hierarchical=True`` (2-D input only) each resample also redraws the
    samples within every drawn question, so the interval includes sampling noise.
    """
    _check_resampling(n_resamples, confidence)
    if hierarchical:
        return _hierarchical_ci(np.asarray(a, float), np.asarray(b, float), n_resamples, confidence, seed)
    a_q, b_q = _per_question(a, "a"), _per_question(b, "b")
    if a_q.shape[0] != b_q.shape[0]:
        raise ValueError(f"paired scores need the same questions: a has {a_q.shape[0]}, b has {b_q.shape[0]}")
    low, high = paired_bootstrap_cis(b_q, [a_q], n_resamples, confidence, seed)[0]
    return low, high


def _hierarchical_ci(a: np.ndarray, b: np.ndarray, n_resamples: int, confidence: float, seed: int):
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError("hierarchical bootstrap needs 2-D scores (questions x samples) with the same questions")
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    out = np.empty(n_resamples)
    for r in range(n_resamples):
        q = rng.integers(0, n, n)
        sa = a[q[:, None], rng.integers(0, a.shape[1], (n, a.shape[1]))].mean()
        sb = b[q[:, None], rng.integers(0, b.shape[1], (n, b.shape[1]))].mean()
        out[r] = sa - sb
    alpha = (1 - confidence) / 2
    low, high = np.quantile(out, [alpha, 1 - alpha])
    return float(low), float(high)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)
