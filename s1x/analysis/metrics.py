"""Test-time scaling metrics over a set A of evaluation runs of one method (PAPER.md 4, Table 3).

Each run is a point: the thinking compute it used, the bounds it was asked to
stay within, and its accuracy.

- ``control``: the share of runs whose compute stays within their bounds;
- ``scaling``: the mean slope over all pairs of runs, ordered by compute;
- ``performance``: the best accuracy.

The paper does not print the unit of its compute axis, so ``scaling`` takes it
as a parameter: slopes are in accuracy points (0-100) per ``compute_unit``
thinking tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Sequence


@dataclass(frozen=True)
class RunPoint:
    """One evaluation run of a method, as the metrics see it."""

    compute: float  # thinking tokens the run used (the axis of Scaling), e.g. mean per question
    accuracy: float  # fraction in [0, 1]
    max_compute: float  # the largest per-question thinking it used (what Control checks)
    min_bound: float = 0.0  # requested lower bound on thinking tokens (0: none)
    max_bound: float = float("inf")  # requested upper bound (inf: none)


def control(runs: Sequence[RunPoint]) -> float:
    """(1/|A|) * sum of 1[min_bound <= compute <= max_bound], compute checked at its extreme per run."""
    if not runs:
        raise ValueError("control needs at least one run")
    return sum(r.min_bound <= r.max_compute <= r.max_bound for r in runs) / len(runs)


def scaling(runs: Sequence[RunPoint], compute_unit: float = 1.0) -> float:
    """Mean over pairs a < b (by compute) of (f(b) - f(a)) / (b - a): accuracy points per ``compute_unit`` tokens.

    Pairs with equal compute have no slope and are skipped; with fewer than
    two distinct compute values the result is 0.0.
    """
    if compute_unit <= 0:
        raise ValueError(f"compute_unit={compute_unit} must be positive")
    ordered = sorted(runs, key=lambda r: r.compute)
    slopes = [100 * (b.accuracy - a.accuracy) / ((b.compute - a.compute) / compute_unit)
              for a, b in combinations(ordered, 2) if b.compute > a.compute]
    return sum(slopes) / len(slopes) if slopes else 0.0


def performance(runs: Sequence[RunPoint]) -> float:
    """max over runs of accuracy (a fraction)."""
    if not runs:
        raise ValueError("performance needs at least one run")
    return max(r.accuracy for r in runs)
