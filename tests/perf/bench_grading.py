"""Time the math grader on MATH500: 500 answers written as models write them (target <= 15 s on 2 cores).

    python tests/perf/bench_grading.py [path/to/math500.jsonl]

Answers are each row's gold inside ``\\boxed{}`` for half the rows and another
row's gold for the rest. Baseline measured in the same run: the same grading
in this process, one answer after another (no workers, no time limits).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from s1x.grading import grade_many

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "benchmarks" / "math500.jsonl"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        raise SystemExit(f"no MATH500 file at {path}: pass the path of math500.jsonl")
    golds = [str(json.loads(line)["answer"]) for line in path.read_text().splitlines() if line.strip()]
    answers = [f"The answer is $\\boxed{{{g if i % 2 == 0 else golds[(i + 7) % len(golds)]}}}$."
               for i, g in enumerate(golds)]
    t0 = time.perf_counter()
    workers = grade_many(answers, golds, "math", workers=2, timeout_s=5.0)
    t1 = time.perf_counter()
    inline = grade_many(answers, golds, "math", workers=0)
    t2 = time.perf_counter()
    assert [g.correct for g in workers] == [g.correct for g in inline]
    print(f"math grader, {len(golds)} MATH500 answers, 2 worker processes: {t1 - t0:.2f} s (target <= 15 s); "
          f"{sum(g.correct for g in workers)} correct")
    print(f"baseline, in process: {t2 - t1:.2f} s; workers / baseline = {(t1 - t0) / (t2 - t1):.2f}")


if __name__ == "__main__":
    main()
