"""Analysis: statistics against scipy, metrics against hand computation, tables and figures from run dirs."""

import numpy as np
import pytest
from scipy import stats

from s1x.analysis import (RunPoint, collect, control, maj_at_k, paired_bootstrap_ci, paired_bootstrap_cis, pass_at_k,
                          performance, scaling, table2, table3)
from s1x.analysis.__main__ import main as analysis_main

from analysis_runs import write_run


def _scipy_ci(a, b, n_resamples, confidence, seed):
    res = stats.bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis), paired=True,
                          vectorized=True, n_resamples=n_resamples, confidence_level=confidence,
                          method="percentile", rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high


@pytest.mark.parametrize("seed, n, confidence", [(0, 30, 0.95), (1, 500, 0.95), (7, 120, 0.9)])
def test_paired_bootstrap_ci_equals_scipy(seed, n, confidence):
    rng = np.random.default_rng(100 + seed)
    a = (rng.random(n) < 0.6).astype(float)
    b = (rng.random(n) < 0.5).astype(float)
    mine = paired_bootstrap_ci(a, b, n_resamples=2000, confidence=confidence, seed=seed)
    ref = _scipy_ci(a, b, 2000, confidence, seed)
    assert mine == pytest.approx(ref, abs=1e-9)
    assert mine[0] < a.mean() - b.mean() < mine[1]


def test_several_samples_per_question_are_averaged_first_and_comparisons_share_resamples():
    rng = np.random.default_rng(3)
    a2 = (rng.random((80, 4)) < 0.7).astype(float)
    b = (rng.random(80) < 0.4).astype(float)
    assert paired_bootstrap_ci(a2, b, 1000, seed=2) == pytest.approx(_scipy_ci(a2.mean(1), b, 1000, 0.95, 2), abs=1e-9)
    c = (rng.random(80) < 0.5).astype(float)
    both = paired_bootstrap_cis(b, [a2, c], 1000, seed=2)
    assert both[1] == pytest.approx(paired_bootstrap_ci(c, b, 1000, seed=2), abs=1e-12)
    # The hierarchical option widens the interval: it adds the noise of the 4 samples.
    low, high = paired_bootstrap_ci(a2, np.stack([b] * 4, 1), 1000, seed=2, hierarchical=True)
    flat_low, flat_high = paired_bootstrap_ci(a2, b, 1000, seed=2)
    assert high - low > flat_high - flat_low, (high - low, flat_high - flat_low)
    with pytest.raises(ValueError, match="same questions"):
        paired_bootstrap_ci(a2, b[:10])


def test_pass_at_k_and_maj_at_k():
    assert pass_at_k(10, 0, 3) == 0.0 and pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(4, 3, 2) == 1.0
    answers, correct = ["7", "7", "3", None], [True, True, False, False]
    assert maj_at_k(answers, correct, 1) == pytest.approx(0.5)  # 2 of 4 single samples are right
    assert maj_at_k(answers, correct, 4) == 1.0
    # k=2 over the 6 pairs: (7,7) (7,3)x2 (7,None)x2 -> 7 wins; (3,None) -> 3: 5/6
    assert maj_at_k(answers, correct, 2) == pytest.approx(5 / 6)


def test_control_scaling_performance_by_hand():
    runs = [RunPoint(100, 0.20, 120, max_bound=128), RunPoint(200, 0.30, 250, max_bound=256),
            RunPoint(400, 0.60, 600, max_bound=512)]
    assert control(runs) == pytest.approx(2 / 3)  # the last run thought 600 > 512
    # Slopes in points per 100 tokens: (30-20)/1 = 10, (60-20)/3 = 13.33, (60-30)/2 = 15 -> mean 12.78
    assert scaling(runs, compute_unit=100) == pytest.approx((10 + 40 / 3 + 15) / 3)
    assert scaling(runs, compute_unit=1) == pytest.approx((10 + 40 / 3 + 15) / 3 / 100)
    assert performance(runs) == 0.60
    # Shaped like Table 3's BF row: 5 budgets, all within bounds, accuracy rising.
    bf = [RunPoint(c, acc, c, max_bound=c) for c, acc in
          [(512, 0.30), (1024, 0.40), (2048, 0.467), (4096, 0.533), (8192, 0.567)]]
    assert control(bf) == 1.0 and performance(bf) == 0.567
    slopes = [100 * (b.accuracy - a.accuracy) / ((b.compute - a.compute) / 1000)
              for i, a in enumerate(bf) for b in bf[i + 1:]]
    assert scaling(bf, compute_unit=1000) == pytest.approx(sum(slopes) / 10)
    assert np.isnan(scaling([RunPoint(5, 0.1, 5), RunPoint(5, 0.9, 5)]))  # no distinct compute: no slope


@pytest.fixture
def multirun(tmp_path):
    rng = np.random.default_rng(0)
    s1k = (rng.random(60) < 0.7).astype(int)
    rnd = (rng.random(60) < 0.5).astype(int)
    low = (rng.random(60) < 0.3).astype(int)
    write_run(tmp_path / "0", "s1k", {("tiny-mixed", "bf", 32, 30.0, 32): low, ("tiny-mixed", "bf", 96, 60.0, 90): s1k})
    write_run(tmp_path / "1", "1k-random", {("tiny-mixed", "bf", 32, 28.0, 32): low, ("tiny-mixed", "bf", 96, 50.0, 97): rnd})
    (tmp_path / "2" / ".hydra").mkdir(parents=True)  # a failed cell: no results.json
    return tmp_path, s1k, rnd, low


def test_table2_cis_match_the_statistic_and_missing_cells_are_reported(multirun):
    root, s1k, rnd, _ = multirun
    col = collect(root)
    assert [r.selection for r in col.runs] == ["s1k", "1k-random"] and len(col.missing) == 1
    t = table2(col, reference="s1k", n_resamples=2000)
    assert t.header == ["selection", "tiny-mixed"]
    low, high = paired_bootstrap_ci(rnd, s1k, 2000)
    assert t.rows[0] == ["1k-random", f"{100 * rnd.mean():.1f} [{100 * low:.1f}%, {100 * high:.1f}%]"]
    assert t.rows[1] == ["s1k", f"{100 * s1k.mean():.1f}"]
    assert any("missing cell" in n and str(root / "2") in n for n in t.notes)
    assert "\\begin{tabular}" in t.latex() and t.csv().splitlines()[0] == "selection,tiny-mixed"


def test_table3_from_runs(multirun):
    root, s1k, rnd, low = multirun
    t = table3(collect(root), "tiny-mixed", compute_unit=10)
    # One set A per method and model: the two fine-tuned selections are never pooled.
    rows = {r[0]: r[1:] for r in t.rows}
    assert set(rows) == {"bf (s1k)", "bf (1k-random)"}
    s1k_runs = [RunPoint(30, low.mean(), 32, max_bound=32), RunPoint(60, s1k.mean(), 90, max_bound=96)]
    rnd_runs = [RunPoint(28, low.mean(), 32, max_bound=32), RunPoint(50, rnd.mean(), 97, max_bound=96)]
    assert rows["bf (s1k)"] == ["100%", f"{scaling(s1k_runs, 10):.2f}", f"{100 * s1k.mean():.1f}", "2"]
    # The 1k-random model thought 97 tokens under a budget of 96 in one run: Control 50%.
    assert rows["bf (1k-random)"] == ["50%", f"{scaling(rnd_runs, 10):.2f}", f"{100 * rnd.mean():.1f}", "2"]
    assert f"{scaling(s1k_runs, 10):.2f}" == f"{100 * (s1k.mean() - low.mean()) / 3:.2f}"


def test_cli_writes_tables_and_a_figure_whose_points_are_the_results(multirun, capsys):
    root, s1k, rnd, low = multirun
    assert analysis_main(["table2", str(root), "--resamples", "500"]) == 0
    assert (root / "analysis" / "table2.md").exists() and (root / "analysis" / "table2.tex").exists()
    assert analysis_main(["table3", str(root), "--compute-unit", "100"]) == 0
    assert (root / "analysis" / "table3_tiny-mixed.csv").exists()
    from s1x.analysis.figures import figure1

    fig, points = figure1(collect(root), root / "analysis")
    assert (root / "analysis" / "figure1.png").stat().st_size > 1000
    lines = {line.get_label(): list(zip(line.get_xdata(), line.get_ydata())) for line in fig.axes[0].get_lines()}
    assert lines["s1k (bf)"] == [(30.0, pytest.approx(100 * low.mean())), (60.0, pytest.approx(100 * s1k.mean()))]
    assert points["tiny-mixed"]["1k-random (bf)"][1] == (50.0, pytest.approx(100 * rnd.mean()))


def test_figure4b_puts_sequential_and_parallel_on_one_axis(tmp_path):
    write_run(tmp_path / "0", "s1k", {("tiny-mixed", "bf", 32, 30.0, 32): [1, 0, 0, 0],
                                     ("tiny-mixed", "bf", 96, 60.0, 90): [1, 1, 1, 0]})
    write_run(tmp_path / "1", "s1k", {("tiny-mixed", "majority", 2, 80.0, 50): [1, 1, 0, 0],
                                     ("tiny-mixed", "majority", 4, 160.0, 50): [1, 1, 0, 1]})
    from s1x.analysis.figures import figure4b

    fig, points = figure4b(collect(tmp_path), tmp_path / "out", "tiny-mixed")
    assert points == {"bf": [(30.0, 25.0), (60.0, 75.0)], "majority": [(80.0, 50.0), (160.0, 75.0)]}
    plotted = {line.get_label(): list(zip(line.get_xdata(), line.get_ydata())) for line in fig.axes[0].get_lines()}
    assert plotted == {"bf (sequential)": points["bf"], "majority (parallel)": points["majority"]}
    assert analysis_main(["figure4b", str(tmp_path), "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "figure4b_tiny-mixed.png").exists()


def test_table3_never_pools_two_models_and_skips_rows_without_compute(tmp_path):
    # Two base models fine-tuned on the same selection: two sets A, never one.
    for i, base in enumerate(["tiny", "qwen2.5-32b-instruct"]):
        write_run(tmp_path / str(i), "s1k", {("b", "bf", 32, 30.0, 32): [1, 0], ("b", "bf", 96, 60.0, 90): [1, 1]},
                  choices={"selection": "s1k", "model": base}, model_path=f"/cache/sft/{i}", seed=0)
    write_run(tmp_path / "imported", "x", {("b", "imported", None, None, None): [1, 0]}, stages=("evaluate",))
    t = table3(collect(tmp_path), "b")
    assert [r[0] for r in t.rows] == ["bf (s1k, qwen2.5-32b-instruct)", "bf (s1k, tiny)"]
    assert all(r[4] == "2" for r in t.rows)
    # The imported row has no thinking counts: left out, and the note says so.
    assert any(n.startswith("skipped (no thinking counts") and str(tmp_path / "imported") in n for n in t.notes)
