"""The public grading API: ``s1x.grading.grade``."""

import pytest

from s1x.grading import extract_answer, grade


@pytest.mark.parametrize(
    "prediction, gold, kind, correct",
    [
        ("<|im_start|>answer\nAnswer: 28<|im_end|>", "28", "exact", True),
        ("Answer: 27", "28", "exact", False),
        ("Answer: 025", "25", "integer", True),
        ("Final Answer: 25.", "25", "integer", True),
        ("Answer: 26", "25", "integer", False),
        ("Answer: B", "B", "choice", True),
        ("Answer: (C)", "C", "choice", True),
        ("Answer: D) 14", "D", "choice", True),
        ("Answer: A", "B", "choice", False),
        ("Answer: Delta E", "E", "choice", False),  # no letter pulled out of a word
        ("no answer at all", "B", "choice", False),
        ("The change is \\Delta E = 5 kJ. Answer: \\boxed{C}", "C", "choice", True),
        ("Answer: \\Delta E", "E", "choice", False),
        ("Answer: **B**", "B", "choice", True),
        ("I think the answer is (D).", "D", "choice", True),
        ("Answer: \\frac{3}{4}", "0.75", "math", True),
        ("\\boxed{x^2+2x+1}", "(x+1)^2", "math", True),
        ("Answer: 3\\sqrt{2}", "\\sqrt{18}", "math", True),
        ("Answer: 4", "5", "math", False),
        ("Answer: \\boxed{10}", "10", "integer", True),
    ],
)
def test_grade(prediction, gold, kind, correct):
    assert grade(prediction, gold, kind).correct is correct


def test_extract_takes_the_last_answer_and_bounds_input():
    assert extract_answer("Answer: 1\nAnswer: 2<|im_end|>") == "2"
    assert grade("x" * 2_000_000 + "Answer: 5", "5", "exact").correct


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="exact, integer, choice, math"):
        grade("Answer: 1", "1", "fuzzy")


def test_last_boxed_is_balanced_and_bounded():
    from s1x.grading import last_boxed

    assert last_boxed("a \\boxed{1} b \\boxed{\\frac{1}{2}} c") == "\\frac{1}{2}"
    assert last_boxed("no box") is None
    assert last_boxed("\\boxed{unclosed {") == "unclosed {"


def test_grade_many_matches_grade_and_keeps_order():
    from s1x.grading import grade_many

    preds = ["Answer: 1", "Answer: \\frac{1}{2}", "Answer: B", "Answer: 7"]
    golds = ["1", "0.5", "B", "8"]
    kinds = ["integer", "math", "choice", "exact"]
    many = grade_many(preds, golds, kinds, workers=2)
    assert [g.correct for g in many] == [grade(p, g, k).correct for p, g, k in zip(preds, golds, kinds)]
    assert [g.correct for g in many] == [True, True, True, False]
    with pytest.raises(ValueError, match="fuzzy"):
        grade_many(preds, golds, "fuzzy")


def test_cross_grading_reports_disagreements():
    from s1x.evaluate.sample_records import cross_grade

    samples = [{"id": "a", "answer_text": "Answer: \\frac{1}{2}", "gold": "0.5", "grader": "exact", "correct": False,
                "extracted": "\\frac{1}{2}"},
               {"id": "b", "answer_text": "Answer: 3", "gold": "3", "grader": "exact", "correct": True, "extracted": "3"}]
    report = cross_grade(samples, ["math", "integer"])
    assert samples[0]["grades"] == {"exact": False, "math": True, "integer": True}
    assert samples[1]["grades"] == {"exact": True, "math": True, "integer": True}
    assert [r["id"] for r in report] == ["a"]
    assert cross_grade(samples, []) == []
