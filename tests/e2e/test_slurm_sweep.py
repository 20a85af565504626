"""The tiny Table 2 sweep on a real (local, single-node) SLURM through hydra/launcher=slurm.

Needs a running SLURM: ``sudo bash launchers/local_slurm.sh up`` (CI does this
and sets S1X_REQUIRE_SLURM=1, so a missing cluster fails there instead of
skipping). One cell is killed with scancel while it runs; the other cells
finish, the killed one is reported, and rerunning the sweep completes it while
every finished cell is served from the stage cache with identical metrics.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT

CELLS = ["s1k", "1k-random", "1k-diverse", "1k-longest", "59k-full"]
KILLED = 3  # 1k-longest: its SFT is not in the session cache yet (the e2e test trained it with ddp)


def _slurm_up() -> bool:
    if not shutil.which("sinfo"):
        return False
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return r.returncode == 0 and any(s.startswith(("idle", "mixed", "alloc")) for s in r.stdout.split())


@pytest.fixture(scope="module")
def slurm():
    if not _slurm_up():
        if os.environ.get("S1X_REQUIRE_SLURM"):
            pytest.fail("S1X_REQUIRE_SLURM is set but no SLURM answers: sudo bash launchers/local_slurm.sh up")
        pytest.skip("no local SLURM (sudo bash launchers/local_slurm.sh up)")


def _sweep_cmd(sweep_dir):
    return [sys.executable, "-m", "s1x.run", "-m", "sweeps=table2", "hydra/launcher=slurm",
            f"hydra.sweep.dir={sweep_dir}", "hydra.launcher.timeout_min=30"]


def _squeue() -> dict[str, str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def _wait(predicate, timeout_s: float, what: str):
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def _results(d):
    return json.loads((d / "results.json").read_text())


def _metrics(res):
    return [(r["benchmark"], r["budget"], r["accuracy"], r["mean_thinking_tokens"]) for r in res["results"]]


def test_table2_sweep_on_local_slurm_survives_a_killed_cell(slurm, default_run, cache, tmp_path):
    env = {**os.environ, "S1X_CACHE_DIR": str(cache)}
    first, second = tmp_path / "first", tmp_path / "rerun"
    t0 = time.time()
    proc = subprocess.Popen(_sweep_cmd(first), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # Kill the 1k-longest cell a few seconds into its run (SIGKILL: no clean-up, as on a node failure).
    _wait(lambda: any(k.endswith(f"_{KILLED}") and v == "RUNNING" for k, v in _squeue().items()), 900,
          "the 1k-longest cell to start")
    job = next(k for k, v in _squeue().items() if k.endswith(f"_{KILLED}"))
    time.sleep(5)
    subprocess.run(["scancel", "--signal=KILL", "--full", job], check=True)
    out, err = proc.communicate(timeout=1800)
    assert proc.returncode != 0  # the sweep reports the lost cell ...
    assert f"{job}" in err and ("CANCELLED" in err or "has not produced any output" in err), err[-3000:]
    _wait(lambda: not _squeue(), 1800, "the other cells to finish")  # ... and the other cells go on
    done = {i for i in range(len(CELLS)) if (first / str(i) / "results.json").exists()}
    assert done == set(range(len(CELLS))) - {KILLED}
    from s1x.analysis.collect import collect

    missing = collect(first).missing
    assert [p.name for p, _ in missing] == [str(KILLED)]  # the killed cell is listed, not silently absent

    # Rerun: completes the sweep; finished cells come from the cache with identical metrics.
    r = subprocess.run(_sweep_cmd(second), cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    wall = time.time() - t0
    for i, cell in enumerate(CELLS):
        res = _results(second / str(i))
        assert res["choices"]["selection"] == cell and res["results"]
        if i != KILLED:
            assert all(res["cached"].values()), (cell, res["cached"])
            assert _metrics(res) == _metrics(_results(first / str(i)))
    assert not all(_results(second / str(KILLED))["cached"].values())
    table = (second / "analysis" / "table2.md").read_text()
    for cell in CELLS:
        assert f"| {cell} |" in table
    print(f"tiny Table 2 on local SLURM, kill + rerun included: {wall:.0f} s")  # reported, not asserted
