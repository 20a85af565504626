"""Hostile answers: each is graded or cut by its worker's time limit, nothing crashes, nothing runs.
How long they take is timed in tests/perf/bench_hostile.py, not here."""

import os
import time

import pytest

from s1x.grading import grade, grade_many

MB = 1_000_000
HOSTILE = [
    "Answer: " + "9" * MB,  # 1 MB number
    "a" * MB,  # 1 MB of text, no answer
    "\\boxed{" * 10_000,  # unbalanced boxes
    "{" * 100_000,
    "Answer: 10^{10^{10^{10}}}",  # huge exponents
    "Answer: 9^{9^{9^{9}}}",
    "Answer: 2**2**2**2**2**2",
    "Answer: 1e999999",
    "Answer: " + "\\frac{" * 1000,
    "Answer: " + "\\sqrt{" * 500 + "2" + "}" * 500,  # deep nesting
    "Answer: " + "(" * 50_000 + ")" * 50_000,
    "Answer: \\left(" * 5000,
    "Answer: (" + ",".join(["1"] * 100_000) + ")",
    "Answer: \\begin{pmatrix}" + "1&" * 10_000 + "1\\end{pmatrix}",
    "\\boxed{" * 1000 + "5" + "}" * 1000,
    "Answer:" * 100_000,
    "Answer: " + "$" * 10_000,
    "Answer: __import__('os').system('touch /tmp/s1x-pwned')",  # never executed
    "Answer: eval('1+1')",
    "Answer: \\infty - \\infty",
    "Answer: 0/0",
    "Answer: \\frac{1}{0}",
    "Answer: x^{x^{x^{x^{x^{x}}}}}",
    "Answer: 10!!!!!!!!!!",
    "Answer: 1" + "0" * 5000 + " \\times 10^{100000}",
    "Answer: ７",  # full-width digit
    "Answer: 𝟕",  # mathematical bold digit
    "Answer: \u202e7\u202d",  # bidi overrides
    "Answer: \x00\x01\x02",
    "Answer: \\text{" * 3000,
]


PWNED = "/tmp/s1x-pwned"  # the path the __import__ payload above would create


def test_at_least_25_hostile_answers_are_graded_or_cut_and_none_is_run():
    assert len(HOSTILE) >= 25
    if os.path.exists(PWNED):
        os.remove(PWNED)
    for kind in ("math", "integer"):
        grades = grade_many(HOSTILE, ["7"] * len(HOSTILE), kind, workers=2, timeout_s=4.0)
        assert len(grades) == len(HOSTILE)
        # None of these says 7, except the look-alikes of 7 (full-width, bold, between bidi marks),
        # which may be read as 7 after Unicode normalisation.
        lookalikes = {"Answer: ７", "Answer: 𝟕", "Answer: \u202e7\u202d"}
        wrong = [h[:40] for h, g in zip(HOSTILE, grades) if g.correct and h not in lookalikes]
        assert wrong == []
        assert not any(g.correct for g in grades if g.timed_out)  # a cut answer is graded wrong
    assert not os.path.exists(PWNED)


@pytest.mark.parametrize("answer", HOSTILE[:4] + HOSTILE[16:19] + HOSTILE[25:])
def test_choice_grading_of_hostile_text_is_wrong_and_needs_no_worker(answer, monkeypatch):
    """Choice answers are graded in this process (bounded regexes, no forked worker): grade_many
    with the default workers must not start a process for them."""
    import multiprocessing

    def no_fork(*a, **k):
        raise AssertionError("choice grading started a worker process")

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    (g,) = grade_many([answer], ["B"], "choice")
    assert not g.correct and not g.timed_out
    assert not grade(answer, "B", "choice").correct


def test_a_grading_that_hangs_is_killed_and_the_rest_still_graded(monkeypatch, tmp_path):
    """The hard limit itself: a grade that never returns (forked workers inherit the patch) is cut,
    and the worker that ran it no longer exists afterwards (killed, not left sleeping)."""
    import s1x.grading.parallel as grading  # grade_many's workers call this module's grade

    real = grading.grade
    pids = tmp_path / "pids"

    def hanging(prediction, gold, kind, **options):
        if prediction == "hang":
            with open(pids, "a") as f:
                f.write(f"{os.getpid()}\n")
            time.sleep(3600)
        return real(prediction, gold, kind, **options)

    monkeypatch.setattr(grading, "grade", hanging)
    out = grade_many(["hang", "Answer: 1", "Answer: 2", "hang"], ["1", "1", "1", "1"], "exact", workers=2, timeout_s=1.0)
    assert [g.timed_out for g in out] == [True, False, False, True]
    assert [g.correct for g in out] == [False, True, False, False]
    hung = [int(x) for x in pids.read_text().split()]
    assert len(hung) == 2 and os.getpid() not in hung
    for pid in hung:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped: killed and joined by grade_many
