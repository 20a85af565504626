"""The run dir contract: a dir with ``results.json`` is a finished run of the config beside it.
A rerun that fails never leaves the previous run's results looking like its own, and a tracker
that fails after the results are written does not fail the run."""

import json

from conftest import run_cli


def test_a_failed_rerun_sets_the_old_results_aside(default_run, cache, tmp_path):
    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    run_dir = tmp_path / "run"
    ok = ["stages=[evaluate]", f"model={ckpt}", "benchmark=[tiny-choice]", "method.budgets=[16]"]
    assert run_cli(ok, cache, run_dir).returncode == 0
    first = json.loads((run_dir / "results.json").read_text())
    # The rerun gets past validation and fails inside evaluate (a cap beyond the 1,024-token context).
    r = run_cli(ok[:-1] + ["method.budgets=[3000]"], cache, run_dir)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert not (run_dir / "results.json").exists()
    aside = list(run_dir.glob("results.previous-*.json"))
    assert len(aside) == 1 and json.loads(aside[0].read_text()) == first


def test_a_tracker_failure_after_the_results_does_not_fail_the_run(default_run, cache, tmp_path, monkeypatch):
    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("wandb cannot write its run dir below a file")
    monkeypatch.setenv("WANDB_DIR", str(blocker))
    monkeypatch.setenv("WANDB_API_KEY", "local-0123456789abcdef0123456789abcdef01234567")
    r = run_cli(["stages=[evaluate]", f"model={ckpt}", "benchmark=[tiny-choice]", "method.budgets=[16]", "logger=wandb"],
                cache, tmp_path / "run")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "run" / "results.json").exists()
    assert "s1x: warning: logging to wandb failed" in r.stderr
