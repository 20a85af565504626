"""Hostile answers: each is graded or timed out within its limit, nothing crashes, nothing runs."""

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


def test_at_least_25_hostile_answers_are_graded_or_timed_out_in_time(tmp_path):
    assert len(HOSTILE) >= 25
    for kind in ("math", "integer"):
        t0 = time.monotonic()
        grades = grade_many(HOSTILE, ["7"] * len(HOSTILE), kind, workers=2, timeout_s=4.0)
        elapsed = time.monotonic() - t0
        assert len(grades) == len(HOSTILE)
        # Every answer finished or was cut at 4 s; two workers share the list.
        assert elapsed <= 4.5 * len(HOSTILE) / 2 + 5, elapsed
        # None of these says 7, except the look-alikes of 7 (full-width, bold, between bidi marks),
        # which may be read as 7 after Unicode normalisation.
        lookalikes = {"Answer: ７", "Answer: 𝟕", "Answer: \u202e7\u202d"}
        wrong = [h[:40] for h, g in zip(HOSTILE, grades) if g.correct and h not in lookalikes]
        assert wrong == []
    assert not (tmp_path / "s1x-pwned").exists()
    import os

    assert not os.path.exists("/tmp/s1x-pwned")


@pytest.mark.parametrize("answer", HOSTILE[:4] + HOSTILE[16:19] + HOSTILE[25:])
def test_choice_grading_of_hostile_text_is_fast_in_process(answer):
    t0 = time.monotonic()
    g = grade(answer, "B", "choice")
    assert time.monotonic() - t0 < 1.0 and not g.correct


def test_a_grading_that_hangs_is_killed_and_the_rest_still_graded(monkeypatch):
    """The hard limit itself: a grade that never returns (forked workers inherit the patch)."""
    import s1x.grading.parallel as grading  # grade_many's workers call this module's grade

    real = grading.grade

    def hanging(prediction, gold, kind, **options):
        if prediction == "hang":
            time.sleep(60)
        return real(prediction, gold, kind, **options)

    monkeypatch.setattr(grading, "grade", hanging)
    t0 = time.monotonic()
    out = grade_many(["hang", "Answer: 1", "Answer: 2", "hang"], ["1", "1", "1", "1"], "exact", workers=2, timeout_s=1.0)
    assert time.monotonic() - t0 < 6
    assert [g.timed_out for g in out] == [True, False, False, True]
    assert [g.correct for g in out] == [False, True, False, False]
