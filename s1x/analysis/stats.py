"""Statistics for comparing runs: paired bootstrap CIs, unbiased pass@k, maj@k.

``paired_bootstrap_ci`` reproduces ``scipy.stats.bootstrap((a, b), mean
difference, paired=True, method="percentile")`` draw for draw: the same
generator call (``rng.integers(0, n, (n_resamples, n))``) picks question
indices, and the interval is the linear-interpolation quantile of the
resampled differences. It is faster because the mean difference of a
resample only needs the per-question differences, and because comparisons
against one reference share one set of resampled indices (as counts, turned
into means by one matrix product).
"""

from __future__ import annotations

from collections import Counter
from math import comb
from typing import Sequence

import numpy as np


def _per_question(x) -> np.ndarray:
    """Scores as a 1-D float array; a 2-D (questions x samples) array is averaged per question first."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 2:
        return arr.mean(axis=1)
    if arr.ndim != 1:
        raise ValueError(f"scores must be 1-D (questions) or 2-D (questions x samples), got shape {arr.shape}")
    return arr


def resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` questions appears in each bootstrap resample (``n_resamples`` x ``n``),
    drawn exactly as ``scipy.stats.bootstrap`` draws its indices for that seed."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, (n_resamples, n))
    flat = (idx + (np.arange(n_resamples) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=n_resamples * n).reshape(n_resamples, n).astype(float)


def paired_bootstrap_cis(a, bs: Sequence, n_resamples: int = 10_000, confidence: float = 0.95,
                         seed: int = 0) -> list[tuple[float, float]]:
    """Percentile CIs of mean(b) - mean(a) for each b in ``bs``, all on the same resampled questions."""
    ref = _per_question(a)
    others = np.stack([_per_question(b) for b in bs], axis=1)  # questions x comparisons
    if others.shape[0] != ref.shape[0]:
        raise ValueError(f"paired scores need the same questions: {ref.shape[0]} vs {others.shape[0]}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must be in (0, 1)")
    n = ref.shape[0]
    counts = resample_counts(n, n_resamples, seed)
    diffs = counts @ (others - ref[:, None]) / n  # resamples x comparisons
    alpha = (1 - confidence) / 2
    q = np.quantile(diffs, [alpha, 1 - alpha], axis=0)  # linear interpolation, as scipy
    return [(float(q[0, j]), float(q[1, j])) for j in range(others.shape[1])]


def paired_bootstrap_ci(a, b, n_resamples: int = 10_000, confidence: float = 0.95, seed: int = 0,
                        hierarchical: bool = False) -> tuple[float, float]:
    """Percentile bootstrap CI of ``mean(a) - mean(b)`` over paired per-question scores.

    ``a`` and ``b`` hold one score per question (same order), or several
    samples per question as a 2-D array, averaged per question first. With
    ``hierarchical=True`` (2-D input only) each resample also redraws the
    samples within every drawn question, so the interval includes sampling noise.
    """
    if hierarchical:
        return _hierarchical_ci(np.asarray(a, float), np.asarray(b, float), n_resamples, confidence, seed)
    low, high = paired_bootstrap_cis(b, [a], n_resamples, confidence, seed)[0]
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


def maj_at_k(answers: Sequence[str | None], correct: Sequence[bool], k: int, n_subsets: int = 1000,
             seed: int = 0) -> float:
    """Expected majority-vote accuracy of ``k`` of the samples of one question.

    Draws ``n_subsets`` random k-subsets (all of them when there are fewer),
    votes over the extracted answers (ties go to the answer seen first in the
    subset; a missing answer never wins over a present one), and returns the
    share of subsets whose winner is correct.
    """
    if not 1 <= k <= len(answers):
        raise ValueError(f"k={k} must be between 1 and the number of samples {len(answers)}")
    is_right = {a: ok for a, ok in zip(answers, correct) if a is not None}
    rng = np.random.default_rng(seed)
    n = len(answers)
    total = comb(n, k)
    if total <= n_subsets:
        from itertools import combinations

        subsets = list(combinations(range(n), k))
    else:
        subsets = [tuple(rng.choice(n, size=k, replace=False)) for _ in range(n_subsets)]
    wins = 0
    for s in subsets:
        votes = Counter(answers[i] for i in s if answers[i] is not None)
        if votes:
            best = max(votes.values())
            winner = next(answers[i] for i in s if answers[i] is not None and votes[answers[i]] == best)
            wins += bool(is_right.get(winner, False))
    return wins / len(subsets)
