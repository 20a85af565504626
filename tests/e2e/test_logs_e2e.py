"""The default run's output as a SLURM log, CI or a pipe receives it (stdout and stderr to files).

The shared ``default_run`` (conftest) is a cold first run with its output in files and a
progress line every 10 s (S1X_PROGRESS_INTERVAL_S=10, three times the default rate).
"""

import json
import re

PROGRESS = re.compile(r"\]\[s1x\.progress\]\[INFO\] - (?P<desc>[^:]+): (?P<n>\d+)/(?P<total>\d+) \(\d+%\), "
                      r"(?:[\d.]+ \w+/s|[\d.]+ s/\w+), ETA (?:\d+h)?(?:\d+m)?\d+s")
# Measured: 3.6 KB in all (stdout; stderr empty) for a cold run at the default 30 s (7 progress
# lines, 3.7 minutes on a loaded box) and 8.6 KB with a line every 5 s (57 lines, 7.5 minutes);
# a progress line is ~100 bytes, so at 10 s the bound holds for runs up to about 40 minutes.
# Before s1x.progress, a cold run's stderr held 37.7 KB: 13 bars redrawn 544 times.
MAX_LOG_BYTES = 32_000


def test_no_carriage_return_redraws_and_a_small_log(default_run):
    _, proc = default_run
    for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        assert "\r" not in text, f"{name} holds carriage-return redraws"
        assert not re.search(r"\d+/\d+ \[\d\d:\d\d<", text), f"{name} holds a tqdm bar"  # tqdm's [elapsed<eta
    assert "{'loss'" not in proc.stdout  # the Trainer's printed log dicts (train_log.jsonl keeps them)
    size = len(proc.stdout.encode()) + len(proc.stderr.encode())
    assert size <= MAX_LOG_BYTES, size


def test_progress_lines_say_done_total_rate_and_eta(default_run):
    _, proc = default_run
    lines = [m for m in map(PROGRESS.search, proc.stdout.splitlines()) if m]
    assert lines, "no progress line in a run of many 10-s intervals"
    for m in lines:
        assert 0 < int(m["n"]) <= int(m["total"]), m[0]


def test_a_cold_first_run_installs_the_shipped_base_model(default_run, cache):
    run_dir, proc = default_run
    res = json.loads((run_dir / "results.json").read_text())
    assert res["cached"]["pretrain"] is False  # built in this run: installed, not found
    assert "installed the tiny base model shipped in the package" in proc.stdout
    entry = next(p for p in (cache / "pretrain").iterdir() if not p.name.startswith("."))
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["source"] == "package" and meta["installed_from"].endswith("assets/pretrain")
