"""Killed stages resume: a probe pass keeps the chunks it finished, an evaluation the cells it
finished, and the resumed result equals an uninterrupted one (SFT: test_pipeline_e2e)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import ROOT, run_cli


def _start(args, cache, run_dir):
    env = {**os.environ, "S1X_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "s1x.run", *args, f"hydra.run.dir={run_dir}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(proc, ready, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _log(run_dir) -> str:
    return "".join(p.read_text() for p in run_dir.glob("*.log"))


def test_a_probe_killed_halfway_resumes_with_its_finished_chunks(default_run, cache, tmp_path):
    fresh = tmp_path / "cache"
    shutil.copytree(cache / "pretrain", fresh / "pretrain", ignore=shutil.ignore_patterns(".*"))
    args = ["stages=[select]"]
    proc = _start(args, fresh, tmp_path / "killed")
    progress = lambda: list((fresh / "probe" / ".partial").glob("*/answers.partial.jsonl"))  # noqa: E731
    _kill_when(proc, lambda: any(f.stat().st_size > 0 for f in progress()))
    finished = sum(len(f.read_text().splitlines()) for f in progress())
    assert 0 < finished < 6032
    r = run_cli(args, fresh, tmp_path / "resumed")
    assert r.returncode == 0, r.stderr[-3000:]
    log = _log(tmp_path / "resumed")
    assert f"{finished} of 6032 problems answered by an interrupted run" in log, log[-2000:]
    # The same selection as the uninterrupted default run (same config, same probe answers).
    ids = lambda d: [json.loads(x)["id"] for x in (d / "selection.jsonl").read_text().splitlines()]  # noqa: E731
    assert ids(tmp_path / "resumed") == ids(default_run[0])
    assert not list((fresh / "probe" / ".partial").glob("*/answers.partial.jsonl"))


def test_an_evaluation_killed_after_a_cell_resumes_from_the_next(default_run, cache, tmp_path):
    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    args = ["stages=[evaluate]", f"model={ckpt}", "benchmark=[tiny-mixed]", "method.budgets=[8,16,24,32,40,48,56,64]"]
    fresh = tmp_path / "cache"
    proc = _start(args, fresh, tmp_path / "killed")
    done = lambda: list((fresh / "evaluate" / ".partial").glob("*/*/row.json"))  # noqa: E731
    _kill_when(proc, lambda: len(done()) >= 2)
    finished = {p.parent.name for p in done()}
    assert 2 <= len(finished) < 8, finished  # killed with cells both finished and left to do
    r = run_cli(args, fresh, tmp_path / "resumed")
    assert r.returncode == 0, r.stderr[-3000:]
    log = _log(tmp_path / "resumed")
    for label in finished:
        assert f"tiny-mixed: {label} finished by an interrupted run" in log
    resumed = json.loads((tmp_path / "resumed" / "results.json").read_text())["results"]
    r = run_cli(args, tmp_path / "cache2", tmp_path / "clean")
    clean = json.loads((tmp_path / "clean" / "results.json").read_text())["results"]
    keys = ("budget", "n", "accuracy", "mean_thinking_tokens", "within_budget_rate")
    assert [[row[k] for k in keys] for row in resumed] == [[row[k] for k in keys] for row in clean]
