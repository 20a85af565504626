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


def _concurrent_builder(root: str, log: str) -> None:
    def build(d: Path):
        with open(log, "a") as f:
            f.write("built\n")
        time.sleep(1.0)
        (d / "x").write_text("x")

    StageCache(root).get_or_build("stage", "shared", build)


def test_two_processes_build_a_key_once(tmp_path):
    log = tmp_path / "builds.log"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_concurrent_builder, args=(str(tmp_path / "c"), str(log))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert log.read_text().count("built") == 1
