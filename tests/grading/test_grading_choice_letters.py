"""Issue 29: the choice grader reads the option letter in the forms models write, and refuses to
guess between two different stated letters."""

import pytest

from s1x.grading import grade
from s1x.grading.choice import choice_letter


@pytest.mark.parametrize("answer, letter", [
    ("\\boxed{\\text{C}}", "C"), ("\\boxed{\\mathrm{B}}", "B"), ("\\textbf{B}", "B"), ("Answer: (b)", "B"),
    ("[D]", "D"), ("b.", "B"), ("Ｃ", "C"), ("The correct option is C", "C"), ("the correct answer is (a).", "A"),
    ("Answer: **D**", "D"), ("**Answer: D**", "D"), ("\\boxed{(A)}", "A"), ("\\boxed{\\textbf{c}}", "C"),
    ("Option B", "B"), ("Answer: D) 14", "D"), ("<|im_start|>answer\nb<|im_end|>", "B"),
    ("The change is \\Delta E = 5 kJ. Answer: \\boxed{C}", "C"), ("ANSWER: ｄ", "D"),
])
def test_the_letter_is_read_in_the_forms_models_write(answer, letter):
    assert choice_letter(answer) == letter
    for gold in "ABCD":
        assert grade(answer, gold, "choice").correct is (gold == letter)


@pytest.mark.parametrize("answer", [
    "Answer: B. Actually the answer is C", "\\boxed{A} or \\boxed{B}", "Answer: A\nFinal Answer: D",
])
def test_two_different_stated_letters_are_not_guessed(answer):
    assert choice_letter(answer) is None
    g = grade(answer, "B", "choice")
    assert (g.correct, g.unparsed) == (False, True)
    assert grade(answer, "A", "choice", unparsed_choice="A").correct  # the authors' rule: unparsed counts as A


@pytest.mark.parametrize("answer", [
    "Answer: \\Delta E", "the answer is a prime number", "no answer at all", "Answer: Delta E", "",
])
def test_no_letter_is_pulled_out_of_a_word_or_an_expression(answer):
    assert choice_letter(answer) is None


def test_the_same_letter_stated_twice_is_one_answer():
    assert choice_letter("The answer is (B). Answer: \\boxed{B}") == "B"
