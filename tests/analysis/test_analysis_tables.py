"""Tables on messy hand-built run sets: repeated cells, partial overlap, paper-scale Scaling, rendering."""

import csv
import io
import re

import numpy as np
import pytest
from markdown_it import MarkdownIt

from s1x.analysis import AnalysisInputError, RunPoint, collect, paired_bootstrap_ci, scaling, table2, table3
from s1x.analysis.callback import write_all

from analysis_runs import write_run

PAPER_BF = [(512, 0.30), (1024, 0.40), (2048, 0.467), (4096, 0.533), (8192, 0.567)]


def _paper_scale_run(d, seed=0, selection="s1k"):
    """Table 3's BF row shape on 30 AIME-like questions: accuracy k/30 at each cap."""
    rows = {("aime24", "bf", cap, cap * 0.9, cap): [1] * round(acc * 30) + [0] * (30 - round(acc * 30))
            for cap, acc in PAPER_BF}
    rows[("aime24", "tcc", 512, 700.0, 900)] = [1] * 9 + [0] * 21  # exceeds its 512 bound
    rows[("aime24", "tcc", 2048, 1500.0, 2000)] = [1] * 12 + [0] * 18
    return write_run(d, selection, rows, seed=seed, setting="paper",
                     choices={"selection": selection, "model": "qwen2.5-32b-instruct"})


def _table_cells(md: str) -> list[list[str]]:
    """The rows of the first table of ``md`` as a Markdown parser sees them (header first)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    rows, row = [], None
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            row = []
        elif tok.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content if tokens[i + 1].type == "inline" else "")
        elif tok.type == "tr_close":
            rows.append(row)
    return rows


def test_table3_renders_in_markdown_latex_and_csv_with_five_columns(tmp_path):
    _paper_scale_run(tmp_path / "0")
    t = table3(collect(tmp_path), "aime24")
    rows = _table_cells(t.markdown())
    assert len(rows) == 3 and all(len(r) == 5 for r in rows), rows  # header + bf + tcc
    assert rows[0] == ["method", "Control", "Scaling (per 1,000 tokens)", "Performance", "|A|"]
    assert [r[0] for r in rows[1:]] == ["bf", "tcc"]
    tex = t.latex()
    assert r"\begin{tabular}{lcccc}" in tex and r"$|A|$" in tex and "AIME24" in tex
    body = [line for line in tex.splitlines() if line.endswith(r"\\")]
    assert len(body) == 3 and all(len(re.findall(r"(?<!\\)&", line)) == 4 for line in body)
    assert r"100\%" in tex  # Control's percent escaped
    parsed = list(csv.reader(io.StringIO(t.csv())))
    assert parsed[0][4] == "|A|" and all(len(r) == 5 for r in parsed)


def test_table3_scaling_is_readable_at_paper_scale_and_the_unit_is_settable(tmp_path):
    _paper_scale_run(tmp_path / "0")
    col = collect(tmp_path)
    bf = [RunPoint(c * 0.9, round(a * 30) / 30, c, max_bound=c) for c, a in PAPER_BF]
    rows = {r[0]: r for r in table3(col, "aime24").rows}
    assert rows["bf"][1:] == ["100%", f"{scaling(bf, 1000):.2f}", "56.7", "5"]
    assert 1 < float(rows["bf"][2]) < 10  # a few points per 1,000 tokens, not "0.00"
    # tcc: 700 mean tokens at 512 (max 900 > 512) and 1500 at 2048: Control 50%, slope (40-30)/0.8 per 1,000.
    assert rows["tcc"][1:] == ["50%", f"{(40.0 - 30.0) / 0.8:.2f}", "40.0", "2"]
    per_token = table3(col, "aime24", compute_unit=1)
    assert per_token.header[2] == "Scaling (per 1 tokens)" and per_token.rows[0][2] == f"{scaling(bf, 1):.2f}"
    assert "unit as given" in per_token.notes[0] and "chosen from the computes' range" in table3(col, "aime24").notes[0]
    # The multirun callback uses the default too.
    write_all(tmp_path, resamples=100)
    assert "Scaling (per 1,000 tokens)" in (tmp_path / "analysis" / "table3_aime24.md").read_text()


def test_table3_scaling_with_one_compute_is_na_with_its_reason(tmp_path):
    write_run(tmp_path / "0", "s1k", {("b", "none", None, 40.0, 80): [1, 0, 1, 1]}, seed=0)
    t = table3(collect(tmp_path), "b")
    assert t.rows == [["none", "100%", "n/a", "75.0", "1"]]
    assert any(n.startswith("Scaling of none is n/a: 1 run(s) with 1 distinct compute value(s) (40)") for n in t.notes)


def test_a_repeated_cell_with_the_same_seed_is_an_error_naming_both_run_dirs(tmp_path):
    scores = {("b", "bf", 32, 30.0, 32): [1, 0, 1]}
    write_run(tmp_path / "a", "s1k", scores, seed=0)
    write_run(tmp_path / "b", "s1k", scores, seed=0)
    write_run(tmp_path / "c", "1k-random", scores, seed=0)
    for make in (lambda c: table2(c, n_resamples=100), lambda c: table3(c, "b")):
        with pytest.raises(AnalysisInputError) as err:
            make(collect(tmp_path))
        msg = str(err.value)
        assert str(tmp_path / "a") in msg and str(tmp_path / "b") in msg and "selection=s1k" in msg
        assert "same seed seed=0" in msg and "\n" not in msg


def test_seeds_of_a_cell_are_averaged_with_their_spread(tmp_path):
    rng = np.random.default_rng(5)
    s1k = [(rng.random(40) < p).astype(int) for p in (0.7, 0.6)]
    rnd = [(rng.random(40) < p).astype(int) for p in (0.5, 0.4)]
    for seed in (0, 1):
        write_run(tmp_path / f"s1k-{seed}", "s1k", {("b", "bf", 32, 20.0 + seed, 32): rnd[seed] * 0,
                                                   ("b", "bf", 96, 50.0 + seed, 90): s1k[seed]}, seed=seed)
        write_run(tmp_path / f"rnd-{seed}", "1k-random", {("b", "bf", 32, 20.0, 32): rnd[seed] * 0,
                                                         ("b", "bf", 96, 40.0, 99): rnd[seed]}, seed=seed)
    col = collect(tmp_path)
    t = table2(col, n_resamples=500)
    # The interval resamples the per-question mean over the seeds, as for several samples per question.
    low, high = paired_bootstrap_ci(np.mean(rnd, axis=0), np.mean(s1k, axis=0), 500)
    acc = [100 * r.mean() for r in rnd]
    assert t.rows[0] == ["1k-random", (f"{np.mean(acc):.1f} [{100 * low:.1f}%, {100 * high:.1f}%] "
                                       f"(2 seeds: {min(acc):.1f} to {max(acc):.1f})")]
    ref = [100 * s.mean() for s in s1k]
    assert t.rows[1] == ["s1k", f"{np.mean(ref):.1f} (2 seeds: {min(ref):.1f} to {max(ref):.1f})"]
    assert any("Seeds of a cell are averaged" in n for n in t.notes)
    # Table 3: each seed (one training) is its own set A; the row is their mean and range.
    rows = {r[0]: r for r in table3(col, "b", compute_unit=10).rows}
    slopes = [scaling([RunPoint(20 + s, 0.0, 32, max_bound=32), RunPoint(50 + s, s1k[s].mean(), 90, max_bound=96)], 10)
              for s in (0, 1)]
    assert rows["bf (s1k)"][2] == f"{np.mean(slopes):.2f} (2 seeds: {min(slopes):.2f} to {max(slopes):.2f})"
    assert rows["bf (1k-random)"][1] == "50% (2 seeds: 50% to 50%)" and rows["bf (s1k)"][4] == "2"


def test_runs_that_differ_besides_their_seeds_are_not_averaged(tmp_path):
    rows = {("b", "bf", 96, 50.0, 90): [1, 0, 1, 1]}
    for seed, extra in ((0, "- logger=wandb\n"), (1, "- hydra/launcher=slurm\n- method.budgets=[96]\n")):
        d = write_run(tmp_path / str(seed), "s1k", rows, seed=seed)
        (d / ".hydra" / "overrides.yaml").write_text(f"- selection=s1k\n- seed={seed}\n{extra}")
    assert table3(collect(tmp_path), "b").rows[0][3] == "75.0 (2 seeds: 75.0 to 75.0)"  # neutral overrides: seeds
    (tmp_path / "1" / ".hydra" / "overrides.yaml").write_text("- selection=s1k\n- seed=1\n- sft.lr=3e-5\n")
    with pytest.raises(AnalysisInputError, match=r"/0 and .*/1: runs of one cell .* differ besides their seeds "
                                                 r"\(overrides - vs sft.lr=3e-5\)"):
        table3(collect(tmp_path), "b")


def test_partial_overlap_shows_the_accuracy_of_the_shared_questions_beside_their_interval(tmp_path):
    # 1k-random: all of q0..q19 right, 3 of the 10 it shares with s1k (q20..q29): 76.7% on all, 30% shared.
    rnd = {f"q{i}": int(i < 20 or i in (21, 24, 28)) for i in range(30)}
    s1k = {f"q{i}": int(i % 3 != 0) for i in range(20, 40)}
    write_run(tmp_path / "0", "s1k", {("b", "bf", 96, 50.0, 90): s1k}, seed=0)
    write_run(tmp_path / "1", "1k-random", {("b", "bf", 96, 50.0, 90): rnd}, seed=0)
    t = table2(collect(tmp_path), n_resamples=1000)
    shared = [f"q{i}" for i in range(20, 30)]  # in the reference's order
    low, high = paired_bootstrap_ci([rnd[q] for q in shared], [s1k[q] for q in shared], 1000)
    on_shared, on_all = 100 * np.mean([rnd[q] for q in shared]), 100 * np.mean(list(rnd.values()))
    assert on_shared != on_all
    assert t.rows[0][1] == (f"{on_shared:.1f} [{100 * low:.1f}%, {100 * high:.1f}%] "
                            f"(n=10 shared; all 30: {on_all:.1f})")
    assert t.rows[1][1] == f"{100 * np.mean(list(s1k.values())):.1f}"
    assert any(n.startswith("n=K shared") for n in t.notes)
    # No question in common: no interval, and the cell says why.
    write_run(tmp_path / "2", "1k-longest", {("b", "bf", 96, 50.0, 90): {"x1": 1, "x2": 0}}, seed=0)
    cells = {r[0]: r[1] for r in table2(collect(tmp_path), n_resamples=100).rows}
    assert cells["1k-longest"] == "50.0 (no question shared with s1k: no interval)"


def test_table2_lists_evaluate_only_runs_it_leaves_out_and_refuses_an_absent_method(tmp_path):
    write_run(tmp_path / "0", "s1k", {("b", "bf", 96, 50.0, 90): [1, 0]}, seed=0)
    write_run(tmp_path / "1", "1k-random", {("b", "bf", 96, 50.0, 90): [1, 1]}, seed=0)
    write_run(tmp_path / "base", "s1k", {("b", "bf", 96, 50.0, 90): [0, 0]}, stages=("evaluate",),
              model_path="Qwen/Qwen2.5-32B-Instruct", seed=0)
    t = table2(collect(tmp_path), n_resamples=100)
    assert [r[0] for r in t.rows] == ["1k-random", "s1k"]
    assert f"not in Table 2 (no sft stage: it evaluated a given model): {tmp_path / 'base'}" in t.notes
    with pytest.raises(AnalysisInputError, match="no fine-tuned run has majority rows.*methods of fine-tuned runs: bf"):
        table2(collect(tmp_path), method="majority")


def test_the_multirun_callback_writes_what_it_can_and_logs_the_rest(tmp_path, caplog):
    # Two selections evaluated with tcc only: Table 2 (bf) cannot be made, Table 3 can.
    for i, sel in enumerate(["s1k", "1k-random"]):
        write_run(tmp_path / str(i), sel, {("b", "tcc", 32, 30.0, 40): [1, 0], ("b", "tcc", 64, 50.0, 60): [1, 1]},
                  seed=0)
    with caplog.at_level("WARNING", logger="s1x.analysis"):
        written = write_all(tmp_path, resamples=100)
    assert [p.name for p in written] == ["table3_b.md", "table3_b.tex", "table3_b.csv"]
    assert "table2 not written" in caplog.text and "no fine-tuned run has bf rows" in caplog.text
