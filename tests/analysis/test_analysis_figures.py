"""Figures on messy hand-built run sets: stable styles, one legend, log-2 axis, seeds, Figure 4b per model."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from s1x.analysis import AnalysisInputError, collect
from s1x.analysis.figures import figure1, figure4b
from s1x.analysis.styles import _log2_ticks, series_styles

from analysis_runs import write_run

CAPS = (512, 2048, 8192)


def _bf_rows(benchmarks, accs):
    return {(b, "bf", cap, cap * 0.9, cap): [1] * k + [0] * (10 - k) for b in benchmarks for cap, k in zip(CAPS, accs)}


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def _legend(fig):
    (legend,) = fig.legends
    return {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles)}


@pytest.fixture
def three_selections(tmp_path):
    """s1k and 1k-longest on both benchmarks; 1k-random's gpqa_diamond cell is missing (first in the old
    colour cycle of that panel, it shifted every colour after it)."""
    write_run(tmp_path / "0", "s1k", _bf_rows(["aime24", "gpqa_diamond"], (3, 5, 6)), seed=0)
    write_run(tmp_path / "1", "1k-random", _bf_rows(["aime24"], (2, 3, 4)), seed=0)
    write_run(tmp_path / "2", "1k-longest", _bf_rows(["aime24", "gpqa_diamond"], (1, 3, 3)), seed=0)
    return tmp_path


def test_figure1_keeps_each_series_style_in_every_panel_and_its_legend_entry(three_selections):
    root = three_selections
    fig, points = figure1(collect(root), root / "out")
    assert set(points["aime24"]) == {"s1k (bf)", "1k-random (bf)", "1k-longest (bf)"}
    assert set(points["gpqa_diamond"]) == {"s1k (bf)", "1k-longest (bf)"}
    legend = _legend(fig)
    assert set(legend) == set(points["aime24"])
    assert all(ax.get_legend() is None for ax in fig.axes)  # one legend for the figure, none per panel
    for ax in fig.axes:
        for label, line in _lines(ax).items():
            handle = legend[label]
            assert to_hex(line.get_color()) == to_hex(handle.get_color()) and line.get_marker() == handle.get_marker()
    aime, gpqa = (_lines(ax) for ax in fig.axes)
    for label in gpqa:
        assert gpqa[label].get_color() == aime[label].get_color()
    assert len({to_hex(line.get_color()) for line in aime.values()}) == 3  # distinct within a figure
    assert [ax.get_title() for ax in fig.axes] == ["AIME24", "GPQA Diamond"]
    # Across figures: a figure of 1k-longest alone draws it as the full figure does.
    alone = root / "alone"
    write_run(alone / "2", "1k-longest", _bf_rows(["aime24"], (1, 3, 3)), seed=0)
    fig2, _ = figure1(collect(alone), alone / "out")
    line = _lines(fig2.axes[0])["1k-longest (bf)"]
    assert line.get_color() == aime["1k-longest (bf)"].get_color()
    assert line.get_marker() == aime["1k-longest (bf)"].get_marker()
    plt.close("all")


def test_style_of_a_series_does_not_depend_on_the_other_series():
    selections = ["s1k", "1k-random", "1k-diverse", "1k-longest", "59k-full"]
    full = series_styles({f"{m} (bf)": (m, "bf") for m in selections})
    for m in selections:  # alone or among the five: the same colour and marker
        assert series_styles({f"{m} (bf)": (m, "bf")}) == {f"{m} (bf)": full[f"{m} (bf)"]}
    assert len({c for c, _ in full.values()}) == 5
    # The same model under another method keeps its colour and changes its marker (Figure 1 vs 4a/4b).
    other = series_styles({"s1k (bf_extend)": ("s1k", "bf_extend")})["s1k (bf_extend)"]
    assert other[0] == full["s1k (bf)"][0] and other[1] != full["s1k (bf)"][1]
    # Models outside the paper's names: distinct colours while there are free ones, and the paper's
    # selections keep theirs.
    mixed = series_styles({name: (name, "bf") for name in ["s1k", "Qwen/Qwen2.5-32B-Instruct", "a/b", "c", "d", "e"]})
    assert len({c for c, _ in mixed.values()}) == 6 and mixed["s1k"] == full["s1k (bf)"]


def test_figure1_compute_axis_is_log_2_with_the_papers_ticks(three_selections):
    fig, _ = figure1(collect(three_selections), three_selections / "out")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.xaxis.get_transform().base == 2
    ticks = [t for t in ax.get_xticks() if 0.9 * 512 <= t <= 8192 * 0.9 * 1.01]
    assert all(np.log2(t) == int(np.log2(t)) for t in ticks) and 512 in ticks and 4096 in ticks
    fig.canvas.draw()
    labels = {t.get_text() for t in ax.get_xticklabels()}
    assert {"512", "2,048"} <= labels
    plt.close("all")
    assert _log2_ticks(400, 9000) == [512, 1024, 2048, 4096, 8192]
    assert _log2_ticks(29, 50) == [32, 48]  # a narrow range (two tiny-world caps) still gets two ticks
    assert _log2_ticks(33, 47) == [40]  # narrower still: whatever quarter-step falls inside


def test_seeds_of_a_cell_make_one_point_per_budget_with_their_range(tmp_path):
    write_run(tmp_path / "0", "s1k", _bf_rows(["aime24"], (3, 5, 6)), seed=0)
    write_run(tmp_path / "1", "s1k", _bf_rows(["aime24"], (5, 5, 8)), seed=1)
    fig, points = figure1(collect(tmp_path), tmp_path / "out")
    # One line, one point per cap: no vertical segment joining the two seeds at one compute.
    assert points["aime24"]["s1k (bf)"] == [(460.8, 40.0), (1843.2, 50.0), (7372.8, 70.0)]
    (band,) = fig.axes[0].collections  # the seeds' range, shaded
    ys = band.get_paths()[0].vertices[:, 1]
    assert min(ys) == 30.0 and max(ys) == 80.0
    plt.close("all")


def test_figure4b_draws_one_line_per_model_and_method(tmp_path):
    base = "Qwen/Qwen2.5-32B-Instruct"
    write_run(tmp_path / "0", "s1k", _bf_rows(["aime24"], (3, 5, 6)), seed=0)
    write_run(tmp_path / "1", "1k-random", _bf_rows(["aime24"], (2, 3, 4)), seed=0)
    write_run(tmp_path / "2", "s1k", {**_bf_rows(["aime24"], (1, 1, 2)),
                                      ("aime24", "majority", None, 1000.0, 900): [1, 0, 0, 0],
                                      ("aime24", "majority", None, 4000.0, 900): [1, 1, 0, 0]},
              stages=("evaluate",), model_path=base, seed=0,
              row_fields={("aime24", "majority", None, 1000.0, 900): {"variant": "k=1"},
                          ("aime24", "majority", None, 4000.0, 900): {"variant": "k=4"}})
    fig, points = figure4b(collect(tmp_path), tmp_path / "out", "aime24")
    assert set(points) == {"bf (s1k)", "bf (1k-random)", f"bf ({base})", f"majority ({base})"}
    assert points[f"majority ({base})"] == [(1000.0, 25.0), (4000.0, 50.0)]
    assert points["bf (1k-random)"] == [(460.8, 20.0), (1843.2, 30.0), (7372.8, 40.0)]
    lines = _lines(fig.axes[0])
    assert set(lines) == {"bf (s1k, sequential)", "bf (1k-random, sequential)", f"bf ({base}, sequential)",
                          f"majority ({base}, parallel)"}
    for line in lines.values():  # every line moves right: no zigzag between models
        assert list(line.get_xdata()) == sorted(line.get_xdata())
    assert lines[f"majority ({base}, parallel)"].get_linestyle() == "--"
    assert fig.axes[0].xaxis.get_transform().base == 2
    plt.close("all")


def test_figure4b_refuses_when_the_parallel_method_is_absent(tmp_path):
    write_run(tmp_path / "0", "s1k", _bf_rows(["aime24"], (3, 5, 6)), seed=0)
    with pytest.raises(AnalysisInputError, match="no majority rows with thinking counts on aime24.*--parallel"):
        figure4b(collect(tmp_path), tmp_path / "out", "aime24")
    assert not (tmp_path / "out").exists()
