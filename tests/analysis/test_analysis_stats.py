"""Edge cases of the bootstrap and the Table 3 metrics: refused inputs with messages, NaN with a reason."""

import math

import numpy as np
import pytest
from scipy import stats

from s1x.analysis import RunPoint, auto_compute_unit, control, paired_bootstrap_ci, paired_bootstrap_cis, scaling
from s1x.analysis import draws, scaling_with_reason


def _scipy_ci(a, b, n_resamples, seed):
    res = stats.bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis), paired=True,
                          vectorized=True, n_resamples=n_resamples, method="percentile",
                          rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high


@pytest.mark.parametrize("prefetch", [True, False])
@pytest.mark.parametrize("n, n_resamples, block", [(499, 10_000, 1 << 18), (7, 999, 16), (500, 10_000, 1000)])
def test_blocked_gather_equals_scipy_draw_for_draw(monkeypatch, n, n_resamples, block, prefetch):
    """Odd sizes, a resample count that does not fill the last block, blocks smaller than a question
    row, drawing ahead in a thread or not: the interval is still scipy's (same indices, same quantile)."""
    monkeypatch.setattr(draws, "BLOCK_ELEMENTS", block)
    monkeypatch.setattr(draws, "worth_prefetching", lambda elements: prefetch)
    rng = np.random.default_rng(n)
    a, b = rng.random(n), (rng.random(n) < 0.5).astype(float)  # non-binary scores too (seed-averaged)
    assert paired_bootstrap_ci(a, b, n_resamples, seed=n) == pytest.approx(_scipy_ci(a, b, n_resamples, n), abs=1e-12)


@pytest.mark.parametrize("high, n_rows, width, rows", [(500, 300, 500, 128), (499, 101, 499, 7), (2, 33, 2, 5),
                                                       (1, 4, 1, 3), (3 * 2**30, 40, 9, 3), (2**31 + 1, 25, 11, 4),
                                                       (2**32 - 1, 9, 5, 2)])
def test_vectorised_draws_are_numpys_in_order(high, n_rows, width, rows):
    """The vectorised draws (and the fallback) equal Generator.integers element for element, also where
    many words are redrawn (a range near 2**31 or 2**32: up to half of them) and blocks end mid-word,
    with the raw output drawn ahead in the worker thread or not."""
    want = np.random.default_rng(9).integers(0, high, (n_rows, width))
    for fast, prefetch in ((True, True), (True, False), (False, None)):
        blocks = draws.draw_blocks(high, n_rows, width, 9, rows, fast, prefetch)
        assert np.array_equal(np.concatenate(list(blocks)), want), (fast, prefetch)
    assert draws.fast_path_matches_numpy()  # the check the bootstrap relies on passes here
    if high == width:
        assert np.array_equal(np.concatenate(list(draws.index_blocks(high, n_rows, 9, rows))), want)


def test_bootstrap_refuses_bad_arguments_with_their_names():
    a, b = np.ones(10), np.zeros(10)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match=r"n_resamples=.* must be a positive integer"):
            paired_bootstrap_ci(a, b, n_resamples=bad)
    # The lengths are named for the arguments the caller passed, in their order.
    with pytest.raises(ValueError, match="a has 10, b has 4"):
        paired_bootstrap_ci(a, b[:4])
    with pytest.raises(ValueError, match="a has 10, bs\\[1\\] has 3"):
        paired_bootstrap_cis(a, [b, b[:3]])
    with pytest.raises(ValueError, match="confidence=1.5"):
        paired_bootstrap_ci(a, b, confidence=1.5)
    with pytest.raises(ValueError, match="b: no questions"):
        paired_bootstrap_ci([1.0], [])
    with pytest.raises(ValueError, match="NaN"):
        paired_bootstrap_ci([1.0, float("nan")], [0.0, 1.0])


def test_scaling_with_fewer_than_two_computes_is_nan_with_a_reason():
    value, why = scaling_with_reason([RunPoint(5, 0.1, 5), RunPoint(5, 0.9, 5)])
    assert math.isnan(value) and "1 distinct compute value(s) (5)" in why and "needs two" in why
    value, why = scaling_with_reason([RunPoint(64, 0.5, 64)])
    assert math.isnan(value) and why.startswith("1 run(s)")
    assert math.isnan(scaling([]))
    # Equal computes among distinct ones are skipped, not a division by zero: one pair left, slope 20/10.
    assert scaling([RunPoint(10, 0.1, 10), RunPoint(10, 0.3, 10), RunPoint(20, 0.3, 20)]) == pytest.approx(
        (20 / 10 + 0 / 10) / 2)


@pytest.mark.parametrize("compute, match", [(None, "compute=None must be a number"),
                                            (float("nan"), "compute=nan must be a finite number"),
                                            ("64", "compute='64' must be a number"),
                                            (float("inf"), "compute=inf must be a finite number")])
def test_none_and_nan_computes_are_refused(compute, match):
    with pytest.raises(ValueError, match=match):
        RunPoint(compute, 0.5, 10)
    with pytest.raises(ValueError, match="max_compute=None"):
        RunPoint(10, 0.5, None)


def test_accuracy_must_be_a_fraction():
    with pytest.raises(ValueError, match=r"accuracy=36.7 must be a fraction in \[0, 1\] \(a fraction: 36.7% is 0.367\)"):
        RunPoint(100, 36.7, 100)
    for bad in (-0.1, 1.01, float("nan"), None, True):
        with pytest.raises(ValueError, match="must be a fraction"):
            RunPoint(100, bad, 100)
    assert RunPoint(100, 1, 100).accuracy == 1 and RunPoint(100, 0.0, 100).accuracy == 0.0


def test_control_checks_the_minimum_bound_per_question():
    # min bound 50: a run whose questions thought 40..120 has one question under it, although its
    # largest per-question thinking (120) is above the bound; the old check passed it.
    under = RunPoint(80, 0.5, max_compute=120, min_bound=50, max_bound=128, min_compute=40)
    within = RunPoint(90, 0.6, max_compute=120, min_bound=50, max_bound=128, min_compute=55)
    assert not under.within_bounds and within.within_bounds
    assert control([under, within]) == 0.5
    assert control([RunPoint(80, 0.5, 120, min_bound=50, max_bound=128, min_compute=50)]) == 1.0  # bounds inclusive
    with pytest.raises(ValueError, match="min_bound=50 needs min_compute"):
        RunPoint(80, 0.5, 120, min_bound=50)
    with pytest.raises(ValueError, match="min_bound=200 is above max_bound=100"):
        RunPoint(80, 0.5, 120, min_bound=200, max_bound=100, min_compute=90)


def test_auto_compute_unit_reads_at_any_scale():
    assert auto_compute_unit([8, 16, 32, 96]) == 10  # tiny world caps
    assert auto_compute_unit([512, 1024, 2048, 4096, 8192]) == 1000  # the paper's caps
    assert auto_compute_unit([3500, 16000]) == 10_000
    assert auto_compute_unit([64, 64]) == 10  # one value: its own size
    assert auto_compute_unit([0.2, 0.5]) == 1 and auto_compute_unit([]) == 1
    # Paper-scale BF: 30% at 512 tokens to 56.7% at 8,192. Per token the slope prints as 0.01;
    # per the chosen 1,000 it is a readable few points.
    bf = [RunPoint(c, a, c, max_bound=c) for c, a in [(512, 0.30), (2048, 0.467), (8192, 0.567)]]
    assert f"{scaling(bf, 1):.2f}" == "0.01"
    assert scaling(bf, auto_compute_unit([512, 2048, 8192])) == pytest.approx(1000 * scaling(bf, 1))
    assert 1 < scaling(bf, 1000) < 100


def test_drawing_ahead_needs_a_large_draw_an_idle_core_and_a_load_average(monkeypatch):
    """Windows has no load average: the bootstrap then draws inline instead of failing."""
    monkeypatch.setattr(draws.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(draws.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert draws.worth_prefetching(draws.PREFETCH_ELEMENTS)
    assert not draws.worth_prefetching(draws.PREFETCH_ELEMENTS - 1)
    monkeypatch.setattr(draws.os, "getloadavg", lambda: (1.5, 1.0, 1.0))  # the other core is busy
    assert not draws.worth_prefetching(draws.PREFETCH_ELEMENTS)
    monkeypatch.delattr(draws.os, "getloadavg")
    assert not draws.worth_prefetching(draws.PREFETCH_ELEMENTS)
