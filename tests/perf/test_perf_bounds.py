"""``pytest -m perf``: every bench in tests/perf on a small size, each printed figure within its
bound plus a noise margin (tests/perf/run_all.py). Deselected by default: timings depend on the
machine's load, so CI does not run it; run it on a quiet machine before changing a README figure."""

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.perf
def test_every_bench_is_within_its_bound():
    r = subprocess.run([sys.executable, str(HERE / "run_all.py")], capture_output=True, text=True, timeout=3600)
    print(r.stdout)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_a_crossed_bound_fails_and_a_kept_one_passes():
    """The checker itself (no timing): a figure beyond target * (1 + margin) fails, one within passes."""
    sys.path.insert(0, str(HERE))
    from run_all import BENCHES, check

    bf = next(b for b in BENCHES if b.script == "bench_bf_overhead.py")
    assert check(bf, "ratio 1.300 (target <= 1.15)", 0.25)[0]
    assert not check(bf, "ratio 1.500 (target <= 1.15)", 0.25)[0]
    shared = next(b for b in BENCHES if b.script == "bench_prefix_sharing.py")
    assert check(shared, "speed-up 2.40x (target >= 3)", 0.25)[0]
    assert not check(shared, "speed-up 2.10x (target >= 3)", 0.25)[0]
    assert not check(bf, "no figure printed", 0.25)[0]
