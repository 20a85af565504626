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
    ],
)
def test_grade(prediction, gold, kind, correct):
    assert grade(prediction, gold, kind).correct is correct


def test_extract_takes_the_last_answer_and_bounds_input():
    assert extract_answer("Answer: 1\nAnswer: 2<|im_end|>") == "2"
    assert grade("x" * 2_000_000 + "Answer: 5", "5", "exact").correct


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="exact, integer, choice"):
        grade("Answer: 1", "1", "fuzzy")
