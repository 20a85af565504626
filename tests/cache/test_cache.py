"""The stage cache: atomic entries, reuse, crash safety, one builder at a time."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from s1x.cache import StageCache, stable_hash


def test_key_ignores_dict_order_and_changes_with_content():
    c = StageCache("/nonexistent")
    assert c.key("s", 1, {"a": 1, "b": 2}) == c.key("s", 1, {"b": 2, "a": 1})
    assert c.key("s", 1, {"a": 1}) != c.key("s", 2, {"a": 1})
    assert c.key("s", 1, {"a": 1}, {"in": "x"}) != c.key("s", 1, {"a": 1}, {"in": "y"})
    assert stable_hash([1, 2]) != stable_hash([2, 1])


def test_build_once_then_cached(tmp_path):
    cache, calls = StageCache(tmp_path), []

    def build(d: Path):
        calls.append(1)
        (d / "out.txt").write_text("hello")
        return {"n": 1}

    e1 = cache.get_or_build("stage", "k1", build)
    e2 = cache.get_or_build("stage", "k1", build)
    assert (e1.cached, e2.cached, len(calls)) == (False, True, 1)
    assert (e2.path / "out.txt").read_text() == "hello"
    assert cache.meta(e2)["n"] == 1


def test_failed_build_leaves_nothing(tmp_path):
    cache = StageCache(tmp_path)

    def build(d: Path):
        (d / "partial").write_text("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_build("stage", "k", build)
    assert cache.lookup("stage", "k") is None
    assert not list((tmp_path / "stage" / ".tmp").iterdir())


KILLED_BUILDER = """
import sys, time
from pathlib import Path
from s1x.cache import StageCache
def build(d):
    (d / "half.txt").write_text("half")
    Path(sys.argv[2]).write_text("started")
    time.sleep(60)
StageCache(sys.argv[1]).get_or_build("stage", "k", build)
"""


def test_sigkill_mid_build_leaves_no_complete_entry_and_rerun_builds(tmp_path):
    flag = tmp_path / "started"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILDER, str(tmp_path / "cache"), str(flag)])
    for _ in range(300):
        if flag.exists():
            break
        time.sleep(0.1)
    assert flag.exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    cache = StageCache(tmp_path / "cache")
    assert cache.lookup("stage", "k") is None  # the half-written dir is not an entry
    assert list((tmp_path / "cache" / "stage" / ".tmp").iterdir())  # debris exists ...
    entry = cache.get_or_build("stage", "k", lambda d: (d / "full.txt").write_text("full") and None)
    assert not entry.cached and (entry.path / "full.txt").exists()
    assert not (entry.path / "half.txt").exists()
    assert not list((tmp_path / "cache" / "stage" / ".tmp").iterdir())  # ... and is cleaned by the next builder


def _concurrent_builder(root: str, log: str, name: str) -> None:
    """Log each lookup that finds the entry missing and each build; a builder holds on inside
    the build (so inside the lock) until the other process has looked and found nothing, i.e.
    is now waiting on the lock, or, with no lock, building too."""
    from s1x.cache.store import StageCache as Store

    def note(line: str) -> None:
        with open(log, "a") as f:
            f.write(line + "\n")

    checked = Store._checked

    def logged_check(self, stage, key):
        found = checked(self, stage, key)
        if found is None:
            note(f"missing {name}")
        return found

    Store._checked = logged_check
    other = "missing " + ("b" if name == "a" else "a")

    def build(d: Path):
        note(f"built {name}")
        for _ in range(600):  # bounded: 60 s at most, then the test fails on the log
            if other in Path(log).read_text().splitlines():
                break
            time.sleep(0.1)
        (d / "x").write_text("x")

    Store(root).get_or_build("stage", "shared", build)


def test_two_processes_build_a_key_once(tmp_path):
    """The overlap is forced: the first builder stays inside its build until the second has found
    the entry missing; with the lock the second waits and then finds it built, without it (delete
    the ``with FileLock`` in StageCache.get_or_build) both build and this fails."""
    log = tmp_path / "builds.log"
    log.touch()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_concurrent_builder, args=(str(tmp_path / "c"), str(log), n)) for n in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    lines = log.read_text().splitlines()
    assert {"missing a", "missing b"} <= set(lines), lines  # both looked before the entry existed
    assert sum(line.startswith("built") for line in lines) == 1, lines
    assert [p.exitcode for p in procs] == [0, 0]
