"""Run every bench in tests/perf on a small size and fail when a printed figure crosses its bound.

    python tests/perf/run_all.py [--margin 0.25] [--only NAME ...] [--full]

Each bench prints its figure next to its target (the bound the README states); this script
reads both from the bench's own output and fails (exit 1) when the figure is worse than the
target by more than ``--margin`` (a fraction: 0.25 lets a ratio bounded by 1.15 reach 1.44),
because the machine may be shared and only a large crossing is a regression. A bench whose
inputs are absent (MATH500 file, SmolLM2 wheel) is reported as skipped with the reason.
``--full`` also runs bench_first_run.py (several minutes: cold runs of the whole pipeline).
``pytest -m perf`` runs this (tests/perf/test_perf_bounds.py). The load average is printed
beside each result, as every timing here depends on it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MATH500 = HERE.parents[2] / "shared" / "data" / "benchmarks" / "math500.jsonl"


@dataclass(frozen=True)
class Bench:
    script: str
    args: tuple[str, ...]
    pattern: str  # two groups: the figure and its target
    higher_is_better: bool
    needs: Path | None = None
    full_only: bool = False


BENCHES = [
    Bench("bench_bf_overhead.py", ("--questions", "64", "--batch-size", "32", "--repeats", "2"),
          r"ratio ([\d.]+) \(target <= ([\d.]+)\)", False),
    Bench("bench_prefix_sharing.py", ("--questions", "64", "--batch-size", "32", "--repeats", "1"),
          r"speed-up ([\d.]+)x \(target >= ([\d.]+)\)", True),
    Bench("bench_bootstrap.py", ("--repeats", "5"), r"s1x is ([\d.]+)x faster .*target >= ([\d.]+)x", True),
    Bench("bench_hostile.py", (), r"slowest hostile answer: ([\d.]+) s; time / bound = [\d.]+ \(bound ([\d.]+) s\)", False),
    Bench("bench_grading.py", (str(MATH500),), r"2 worker processes: ([\d.]+) s \(target <= ([\d.]+) s\)", False,
          needs=MATH500),
    Bench("bench_selection.py", (), r"s1K selection total\s+([\d.]+) s\s+\(target <= ([\d.]+) s", False),
    Bench("bench_smol.py", ("--questions", "8", "--repeats", "1"),
          r"time ratio BF/generate ([\d.]+) \(target <= ([\d.]+)\)", False),
    Bench("bench_hf_greedy_rows.py", ("--questions", "64"), r"speed-up s1x / generate: ([\d.]+)x \(target >= ([\d.]+)\)",
          True),
    Bench("bench_first_run.py", (), r"cold / from-scratch: ([\d.]+) \(target <= ([\d.]+)\)", False, full_only=True),
]


def check(bench: Bench, output: str, margin: float) -> tuple[bool, str]:
    """(within bound, a line saying so) for one bench's output."""
    found = re.search(bench.pattern, output)
    if not found:
        return False, f"{bench.script}: no figure matching {bench.pattern!r} in its output"
    value, target = float(found.group(1)), float(found.group(2))
    if bench.higher_is_better:
        ok, limit = value >= target * (1 - margin), target * (1 - margin)
    else:
        ok, limit = value <= target * (1 + margin), target * (1 + margin)
    rel = ">=" if bench.higher_is_better else "<="
    return ok, f"{bench.script}: {value:g} (target {rel} {target:g}, fails beyond {limit:.3g}): {'ok' if ok else 'CROSSED'}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--margin", type=float, default=0.25)
    p.add_argument("--only", nargs="*", help="bench script names (default: all)")
    p.add_argument("--full", action="store_true", help="also the minutes-long bench_first_run.py")
    args = p.parse_args(argv)
    failed = []
    for bench in BENCHES:
        if args.only and bench.script not in args.only and bench.script.removesuffix(".py") not in args.only:
            continue
        if bench.full_only and not args.full:
            print(f"{bench.script}: skipped (minutes long; --full runs it)")
            continue
        if bench.needs is not None and not bench.needs.exists():
            print(f"{bench.script}: skipped ({bench.needs} is absent)")
            continue
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, str(HERE / bench.script), *bench.args], capture_output=True, text=True,
                           cwd=HERE.parents[1])
        load = os.getloadavg()[0]
        if r.returncode != 0:
            failed.append(bench.script)
            print(f"{bench.script}: exit {r.returncode}\n{r.stderr[-2000:]}")
            continue
        ok, line = check(bench, r.stdout, args.margin)
        print(f"{line} ({time.perf_counter() - t0:.0f} s, load {load:.1f})")
        if not ok:
            failed.append(bench.script)
            print(r.stdout[-2000:])
    print("perf: " + (f"{len(failed)} crossed or failed: {', '.join(failed)}" if failed else "every figure within its bound"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
