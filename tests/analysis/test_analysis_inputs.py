"""Malformed run dirs through the CLI a user types: exit 2, one line naming the file and the field, no traceback."""

import json

import pytest

from analysis_runs import analysis_cli, edit_results, write_run

ROWS = {("b", "bf", 32, 30.0, 32): [1, 0, 0, 1], ("b", "bf", 96, 60.0, 90): [1, 1, 0, 1]}
SAMPLES = "eval/b/bf-96/samples.jsonl"


def _row(field, value):
    """A change that sets ``field`` of the second results row (None: removes it)."""
    def change(res):
        if value is None:
            del res["results"][1][field]
        else:
            res["results"][1][field] = value
        return res
    return change


def _write(rel, text):
    return lambda d: (d / rel).write_text(text)


def _results_text(text):
    return _write("results.json", text)


def _samples_lines(change):
    def edit(d):
        lines = (d / SAMPLES).read_text().splitlines()
        (d / SAMPLES).write_text("\n".join(change(lines)) + "\n")
    return edit


# (case, what the user runs, the change to run dir 1, the file the message names, what it says)
CASES = [
    ("truncated results.json", "table3", lambda d: (d / "results.json").write_text((d / "results.json").read_text()[:80]),
     "results.json", "not valid JSON at line 1"),
    ("a list, not an object", "table3", _results_text("[]"), "results.json", "the top level must be an object"),
    ("no results field", "table3", _results_text('{"seed": 0}'), "results.json", "no field 'results'"),
    ("results not a list", "figure1", _results_text('{"results": {"benchmark": "b"}}'), "results.json",
     "results must be a list"),
    ("a row that is not an object", "table3", lambda d: edit_results(d, lambda r: {**r, "results": ["bf-96"]}),
     "results.json", "results[0] must be an object"),
    ("missing accuracy", "table3", lambda d: edit_results(d, _row("accuracy", None)), "results.json",
     "results[1] has no field 'accuracy'"),
    ("missing benchmark", "table2", lambda d: edit_results(d, _row("benchmark", None)), "results.json",
     "results[1] has no field 'benchmark'"),
    ("accuracy in percent", "table3", lambda d: edit_results(d, _row("accuracy", 36.7)), "results.json",
     "results[1].accuracy must be a fraction in [0, 1], got 36.7 (36.7% is written 0.367"),
    ("accuracy as text", "figure1", lambda d: edit_results(d, _row("accuracy", "0.5")), "results.json",
     "results[1].accuracy must be a fraction"),
    ("NaN thinking", "table3", lambda d: (d / "results.json").write_text(
        (d / "results.json").read_text().replace('"mean_thinking_tokens": 60.0', '"mean_thinking_tokens": NaN')),
     "results.json", "results[1].mean_thinking_tokens must be a number of tokens >= 0 or null, got nan"),
    ("thinking as text", "figure1", lambda d: edit_results(d, _row("max_thinking_tokens", "90")), "results.json",
     "results[1].max_thinking_tokens must be a number of tokens"),
    ("budget as text", "table3", lambda d: edit_results(d, _row("budget", "96")), "results.json",
     "results[1].budget must be an integer or null"),
    ("seed as text", "table2", lambda d: edit_results(d, lambda r: {**r, "seed": "0"}), "results.json",
     "seed must be an integer or null"),
    ("missing samples file", "table3", lambda d: (d / SAMPLES).unlink(), SAMPLES,
     "samples file missing (named by"),
    ("truncated samples file", "table2", _samples_lines(lambda ls: ls[:-1] + [ls[-1][:9]]), SAMPLES + ":4",
     "not valid JSON"),
    ("sample without correct", "table2", _samples_lines(lambda ls: [json.dumps({"id": "q0"})] + ls[1:]),
     SAMPLES + ":1", "no field 'correct'"),
    ("overrides not a list", "table3", _write(".hydra/overrides.yaml", "selection: s1k\n"), ".hydra/overrides.yaml",
     "must be a list of overrides"),
]


@pytest.fixture
def clean(tmp_path):
    write_run(tmp_path / "0", "s1k", ROWS, seed=0)
    write_run(tmp_path / "1", "1k-random", ROWS, seed=0)
    return tmp_path


def _assert_refused(r, *parts):
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr  # one line
    assert r.stderr.startswith("s1x.analysis: error: ")
    for part in parts:
        assert part in r.stderr, (part, r.stderr)


@pytest.mark.parametrize("case, what, change, file, says", CASES, ids=[c[0] for c in CASES])
def test_each_malformed_input_exits_2_with_one_line_naming_the_file_and_field(clean, case, what, change, file, says):
    change(clean / "1")
    _assert_refused(analysis_cli(what, clean, "--resamples", 100), str(clean / "1" / file), says)


def test_the_clean_set_goes_through_every_command(clean):
    for what in ("table2", "table3", "figure1"):
        r = analysis_cli(what, clean, "--resamples", 100)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_repeats_and_absent_methods_are_refused_by_the_cli(clean):
    write_run(clean / "again", "s1k", ROWS, seed=0)  # a second s1k run with the same seed
    _assert_refused(analysis_cli("figure1", clean), str(clean / "0"), str(clean / "again"), "same seed seed=0")
    (clean / "again" / "results.json").unlink()
    (clean / "again" / ".hydra" / "overrides.yaml").unlink()
    _assert_refused(analysis_cli("figure4b", clean), "no majority rows with thinking counts on b", "--parallel")
    _assert_refused(analysis_cli("table3", clean, "--benchmark", "aime24"), "no results rows for benchmark 'aime24'",
                    "found: b")
    empty = clean / "empty"
    empty.mkdir()
    _assert_refused(analysis_cli("table2", empty), str(empty), "no finished run")
    bad = analysis_cli("table2", clean, "--resamples", 0)  # argparse's own exit 2, no traceback
    assert bad.returncode == 2 and "--resamples: 0 must be positive" in bad.stderr and "Traceback" not in bad.stderr


def _no_thinking(fields=("mean_thinking_tokens",), absent=False, method=None):
    """A change that nulls (or removes) ``fields`` in every row (of ``method`` only, when given)."""
    def change(res):
        for row in res["results"]:
            if method is None or row["method"] == method:
                for f in fields:
                    if absent:
                        row.pop(f, None)
                    else:
                        row[f] = None
        return res
    return change


EXTEND = {("b", "bf_extend", 32, 30.0, 32): [1, 0, 0, 1], ("b", "majority", 32, 60.0, 64): [1, 1, 0, 0]}


@pytest.mark.parametrize("what, change, says", [
    ("figure1", _no_thinking(), "which Figure 1 (bf) needs"),
    ("figure1", _no_thinking(absent=True), "which Figure 1 (bf) needs"),
    ("figure4a", _no_thinking(), "which Figure 4a (bf_extend) needs"),
    ("figure4b", _no_thinking(method="bf"), "which Figure 4b (bf on b) needs"),
    ("figure4b", _no_thinking(method="majority"), "which Figure 4b (majority on b) needs"),
    ("table3", _no_thinking(("max_thinking_tokens",)), "no row has mean_thinking_tokens and max_thinking_tokens"),
    ("table3", _no_thinking(absent=True), "which Table 3 on b needs"),
], ids=["figure1-null", "figure1-absent", "figure4a-null", "figure4b-bf", "figure4b-majority", "table3-max-null",
        "table3-absent"])
def test_every_figure_and_table3_refuse_a_run_set_without_thinking_counts_naming_the_run_dir(tmp_path, what,
                                                                                              change, says):
    for name, selection in (("0", "s1k"), ("1", "1k-random")):
        write_run(tmp_path / name, selection, {**ROWS, **EXTEND}, seed=0)
        edit_results(tmp_path / name, change)
    _assert_refused(analysis_cli(what, tmp_path, "--resamples", 100), str(tmp_path / "0"), "(and 1 more run dir)",
                    says, "(null or absent)")


def test_a_partly_counted_run_set_is_drawn_and_lists_what_it_left_out(clean):
    edit_results(clean / "1", _no_thinking())
    r = analysis_cli("figure1", clean)
    assert r.returncode == 0, r.stderr
    assert "skipped (no mean_thinking_tokens)" in r.stdout and str(clean / "1") in r.stdout
    assert str(clean / "0") not in r.stdout.split("skipped", 1)[1]  # the counted run is drawn, not skipped
    for d in ("0", "1"):  # nothing but zero-token rows: said as such, not as a missing method
        edit_results(clean / d, lambda res: {**res, "results": [{**row, "mean_thinking_tokens": 0.0}
                                                                for row in res["results"]]})
    _assert_refused(analysis_cli("figure1", clean), "nothing to plot, every bf row was left out (4; first: skipped "
                    "(no thinking (0 tokens) on a log axis)")
