"""Test-time scaling metrics over a set A of evaluation runs of one method (PAPER.md 4, Table 3).

Each run is a point: the thinking compute it used, the bounds it was asked to
stay within, and its accuracy.

- ``control``: the share of runs whose every question's thinking stays within their bounds;
- ``scaling``: the mean slope over all pairs of runs, ordered by compute;
- ``performance``: the best accuracy.

The paper does not print the unit of its compute axis, so ``scaling`` takes it
as a parameter: slopes are in accuracy points (0-100) per ``compute_unit``
thinking tokens. :func:`auto_compute_unit` picks a readable one from the
computes' range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from numbers import Real
from typing import Sequence


def _number(name: str, value, allow_inf: bool = False) -> float:
    """``value`` as a float; None, text, booleans and NaN are refused with a message naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name}={value!r} must be a number of thinking tokens")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name}={value!r} must be a finite number")
    return value


@dataclass(frozen=True)
class RunPoint:
    """One evaluation run of a method, as the metrics see it.

    Control asks every question to stay within the bounds: the largest
    per-question thinking (``max_compute``) against ``max_bound`` and the
    smallest (``min_compute``) against ``min_bound``.
    """

    compute: float  # thinking tokens the run used (the axis of Scaling), e.g. mean per question
    accuracy: float  # fraction in [0, 1]
    max_compute: float  # the largest per-question thinking it used
    min_bound: float = 0.0  # requested lower bound on thinking tokens (0: none)
    max_bound: float = float("inf")  # requested upper bound (inf: none)
    min_compute: float | None = None  # the smallest per-question thinking (needed when min_bound > 0)

    def __post_init__(self):
        _number("compute", self.compute)
        _number("max_compute", self.max_compute)
        if isinstance(self.accuracy, bool) or not isinstance(self.accuracy, Real) or not 0 <= self.accuracy <= 1:
            hint = f" (a fraction: {self.accuracy}% is {self.accuracy / 100:g})" if (
                isinstance(self.accuracy, Real) and 1 < self.accuracy <= 100) else ""
            raise ValueError(f"accuracy={self.accuracy!r} must be a fraction in [0, 1]{hint}")
        low = _number("min_bound", self.min_bound)
        high = _number("max_bound", self.max_bound, allow_inf=True)
        if low > high:
            raise ValueError(f"min_bound={low:g} is above max_bound={high:g}")
        if self.min_compute is not None:
            _number("min_compute", self.min_compute)
        elif low > 0:
            raise ValueError(f"min_bound={low:g} needs min_compute (the smallest per-question thinking) to check")

    @property
    def within_bounds(self) -> bool:
        """Every question's thinking within [min_bound, max_bound]."""
        above_min = self.min_bound <= 0 or self.min_bound <= self.min_compute
        return above_min and self.max_compute <= self.max_bound


def control(runs: Sequence[RunPoint]) -> float:
    """(1/|A|) * sum of 1[min_bound <= thinking <= max_bound for every question of the run]."""
    if not runs:
        raise ValueError("control needs at least one run")
    return sum(r.within_bounds for r in runs) / len(runs)


def scaling_with_reason(runs: Sequence[RunPoint], compute_unit: float = 1.0) -> tuple[float, str | None]:
    """:func:`scaling` and, when it is NaN, why (fewer than two distinct compute values)."""
    if isinstance(compute_unit, bool) or not isinstance(compute_unit, Real) or not compute_unit > 0:
        raise ValueError(f"compute_unit={compute_unit!r} must be a positive number of tokens")
    ordered = sorted(runs, key=lambda r: r.compute)
    slopes = [100 * (b.accuracy - a.accuracy) / ((b.compute - a.compute) / compute_unit)
              for a, b in combinations(ordered, 2) if b.compute > a.compute]
    if not slopes:
        distinct = sorted({r.compute for r in runs})
        return math.nan, (f"{len(runs)} run(s) with {len(distinct)} distinct compute value(s) "
                          f"({', '.join(f'{c:g}' for c in distinct) or 'none'}): a slope needs two")
    return sum(slopes) / len(slopes), None


def scaling(runs: Sequence[RunPoint], compute_unit: float = 1.0) -> float:
    """Mean over pairs a < b (by compute) of (f(b) - f(a)) / (b - a): accuracy points per ``compute_unit`` tokens.

    Pairs with equal compute have no slope and are skipped; with fewer than
    two distinct compute values there is no slope at all and the result is
    NaN (:func:`scaling_with_reason` says why), never a flat 0.
    """
    return scaling_with_reason(runs, compute_unit)[0]


def performance(runs: Sequence[RunPoint]) -> float:
    """max over runs of accuracy (a fraction)."""
    if not runs:
        raise ValueError("performance needs at least one run")
    return max(r.accuracy for r in runs)


def auto_compute_unit(computes: Sequence[float]) -> float:
    """A power of ten near the computes' range, so Scaling prints as a few points per unit at
    any scale (thinking 8-96 tokens: per 10; 512-8,192: per 1,000); at least 1 token."""
    values = [float(c) for c in computes]
    if not values:
        return 1.0
    span = max(values) - min(values) or max(values)
    return float(10 ** math.floor(math.log10(span))) if span >= 1 else 1.0
