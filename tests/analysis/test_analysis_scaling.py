"""The scaling report (python -m s1x.analysis scaling): rises, Wait effects and the selection
difference against the statistic computed here from the per-question scores."""

import json

import numpy as np
import pytest

from s1x.analysis import collect, paired_bootstrap_ci, table2
from s1x.analysis.__main__ import main as analysis_main
from s1x.analysis.budget_scaling import scaling_report
from s1x.analysis.cells import group_cells, ignores, variant_preference, who

from analysis_runs import write_run

N = 120


def _wait_rows(scores_by_budget, thinking, wait2):
    """Rows of one run: Wait x0 at each budget and Wait x2 at the largest (with its own scores)."""
    rows, fields = {}, {}
    for b, s in scores_by_budget.items():
        key = ("chains", "bf", b, thinking[b], b)
        rows[key], fields[key] = s, {"variant": "Wait x0", "num_ignore": 0}
    top = max(scores_by_budget)
    key = ("chains", "bf", top, 1.5 * thinking[top], top)
    rows[key], fields[key] = wait2, {"variant": "Wait x2", "num_ignore": 2}
    return rows, fields


@pytest.fixture
def scaling_runs(tmp_path):
    rng = np.random.default_rng(1)
    draws = {p: (rng.random((3, N)) < p).astype(int) for p in (0.05, 0.3)}
    s1k = {16: draws[0.05][0], 128: draws[0.3][0]}
    rnd = {16: draws[0.05][1], 128: draws[0.3][1]}
    wait2 = draws[0.3][2]
    thinking = {16: 15.0, 128: 80.0}
    rows, fields = _wait_rows(s1k, thinking, wait2)
    write_run(tmp_path / "s1k", "s1k", rows, row_fields=fields, setting="smol-scaling")
    rows, fields = _wait_rows(rnd, thinking, rnd[128])
    write_run(tmp_path / "rnd", "1k-random", rows, row_fields=fields, setting="smol-scaling")
    base = {("chains", "bf", b, 10.0 + b / 100, b): rng.integers(0, 2, N) * 0 for b in (16, 128)}
    write_run(tmp_path / "base", "s1k", base, stages=("evaluate",), setting="smol-scaling",
              model_path="/cache/smollm2")
    return tmp_path, s1k, rnd, wait2


def test_ignore_counts_come_from_the_variant():
    assert [ignores(v) for v in (None, "Wait x0", "Wait x2", "empty x1", "k=4")] == [0, 0, 2, 1, 0]


def test_a_table_prefers_the_plain_row_and_the_most_samples():
    ranked = sorted(["Wait x2", None, "Wait x1"], key=variant_preference)
    assert ranked[-1] is None and sorted(["k=16", "k=8", "k=2"], key=variant_preference)[-1] == "k=16"


def test_table2_reports_the_largest_budget_without_wait(scaling_runs):
    """Table 2 is plain budget forcing at the largest budget (the paper's), not its Wait x2 row."""
    root, s1k, rnd, wait2 = scaling_runs
    table = table2(collect(root), n_resamples=500)
    cells = {r[0]: r[1] for r in table.rows}
    assert cells["s1k"] == f"{100 * s1k[128].mean():.1f}" != f"{100 * wait2.mean():.1f}"
    assert cells["1k-random"].startswith(f"{100 * rnd[128].mean():.1f} [")
    assert "(Wait x0)" in table.notes[0]


def test_an_evaluate_only_run_is_named_by_its_model_config_and_keyed_by_what_it_loaded(tmp_path):
    """model=smollm2-135m-instruct loads the hub's weights or, offline, the GGUF converted into the
    stage cache: the same name, different models, two series (never averaged as seeds)."""
    rows = {("chains", "bf", 16, 10.0, 16): [0, 1], ("chains", "bf", 128, 50.0, 128): [1, 1]}
    named = {"selection": "s1k", "model": "smollm2-135m-instruct"}
    write_run(tmp_path / "a", "s1k", rows, stages=("evaluate",), model_path="/cache/convert/aaa", choices=named)
    _, numbers = scaling_report(collect(tmp_path), n_resamples=100)
    assert numbers["models"]["smollm2-135m-instruct"]["model"] == "/cache/convert/aaa"
    write_run(tmp_path / "b", "s1k", rows, stages=("evaluate",), model_path="HuggingFaceTB/SmolLM2-135M-Instruct",
              choices=named, seed=1)
    series = {k.series for k in group_cells(collect(tmp_path))}
    assert sorted(who(series).values()) == ["smollm2-135m-instruct [/cache/convert/aaa]",
                                            "smollm2-135m-instruct [HuggingFaceTB/SmolLM2-135M-Instruct]"]


def test_rise_wait_and_selection_difference_match_the_statistic(scaling_runs):
    root, s1k, rnd, wait2 = scaling_runs
    table, numbers = scaling_report(collect(root), n_resamples=2000)
    models = numbers["models"]
    assert set(models) == {"s1k", "1k-random", "cache/smollm2"}
    m = models["s1k"]
    assert m["budgets"] == [16, 128] and m["accuracy"] == [pytest.approx(100 * s1k[16].mean()),
                                                           pytest.approx(100 * s1k[128].mean())]
    low, high = paired_bootstrap_ci(s1k[128], s1k[16], 2000)
    assert m["rise"]["diff"] == pytest.approx(100 * (s1k[128].mean() - s1k[16].mean()))
    assert m["rise"]["ci"] == [pytest.approx(100 * low), pytest.approx(100 * high)] and m["rise"]["n"] == N
    assert m["rise"]["ci"][0] > 0  # 5% vs 30% on 120 questions
    w = m["waits"][2][128]
    assert w["thinking_change_pct"] == pytest.approx(50.0)
    low, high = paired_bootstrap_ci(wait2, s1k[128], 2000)
    assert w["accuracy"]["ci"] == [pytest.approx(100 * low), pytest.approx(100 * high)]
    vs = models["1k-random"]["vs_reference"]
    low, high = paired_bootstrap_ci(rnd[128], s1k[128], 2000)
    assert vs["reference"] == "s1k" and vs["budget"] == 128
    assert vs["accuracy"]["ci"] == [pytest.approx(100 * low), pytest.approx(100 * high)]
    rise_diff = (rnd[128] - rnd[16]) - (s1k[128] - s1k[16])
    assert vs["rise"]["diff"] == pytest.approx(100 * rise_diff.mean())
    base = models["cache/smollm2"]
    assert base["rise"]["diff"] == 0 and base["waits"] == {}
    assert table.header[:3] == ["model", "acc @16", "acc @128"]


def test_cli_writes_the_table_the_numbers_and_the_figure(scaling_runs, capsys):
    root, *_ = scaling_runs
    assert analysis_main(["scaling", str(root), "--resamples", "500"]) == 0
    out = root / "analysis"
    numbers = json.loads((out / "scaling.json").read_text())
    assert numbers["models"]["s1k"]["waits"]["2"]["128"]["thinking_change_pct"] == pytest.approx(50.0)
    assert (out / "scaling.png").stat().st_size > 1000 and (out / "scaling.md").exists()
    assert "rise [95% CI]" in capsys.readouterr().out


def test_a_run_set_without_budgeted_rows_is_refused_in_one_line(tmp_path, capsys):
    write_run(tmp_path / "r", "s1k", {("chains", "none", None, 10.0, 20): [1, 0]})
    assert analysis_main(["scaling", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no budgeted bf rows" in err and "chains/none" in err and len(err.splitlines()) == 1


def test_the_report_carries_the_library_versions_its_runs_recorded(tmp_path):
    """bf16 numerics on a CPU move with the libraries: scaling.json says which ones made each series
    (every distinct value when seeds ran under different ones; {} when runs recorded none)."""
    rows = {("chains", "bf", 16, 10.0, 16): [0, 1], ("chains", "bf", 128, 50.0, 128): [1, 1]}
    write_run(tmp_path / "s0", "s1k", rows, seed=0, versions={"torch": "2.13.0+cpu", "transformers": "5.25.0", "vllm": None})
    write_run(tmp_path / "s1", "s1k", rows, seed=1, versions={"torch": "2.13.0+cpu", "transformers": "5.24.0"})
    write_run(tmp_path / "r", "1k-random", rows)
    table, numbers = scaling_report(collect(tmp_path), n_resamples=100)
    assert table.notes[-1].startswith("Made with torch 2.13.0+cpu, transformers 5.24.0 | 5.25.0 (")
    assert numbers["models"]["s1k"]["versions"] == {"torch": "2.13.0+cpu", "transformers": "5.24.0 | 5.25.0"}
    assert numbers["models"]["1k-random"]["versions"] == {}
