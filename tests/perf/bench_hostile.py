"""Time hostile answers (the timing claims tests/grading/test_grading_hostile.py no longer asserts).

    python tests/perf/bench_hostile.py

Prints, each with its bound: the hostile list under the math grader with 2 workers and a 4 s
limit (bound: every answer cut at 4.5 s, two workers: 4.5 * n / 2 + 5 s); the slowest choice
grading of the hostile text in process (bound 1 s). Ratios are time / bound: above 1 is a
regression.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_grading_hostile import HOSTILE  # noqa: E402

from s1x.grading import grade, grade_many  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    grade_many(HOSTILE, ["7"] * len(HOSTILE), "math", workers=2, timeout_s=4.0)
    listed = time.perf_counter() - t0
    bound = 4.5 * len(HOSTILE) / 2 + 5
    print(f"hostile list, math grader, 2 workers: {listed:.2f} s; time / bound = {listed / bound:.2f} (bound {bound:.0f} s)")
    slowest = 0.0
    for answer in HOSTILE:
        t0 = time.perf_counter()
        grade(answer, "B", "choice")
        slowest = max(slowest, time.perf_counter() - t0)
    print(f"choice grading, slowest hostile answer: {slowest:.3f} s; time / bound = {slowest / 1.0:.2f} (bound 1 s)")


if __name__ == "__main__":
    main()
