"""Issue 29: the math and integer graders credit only an answer the response states (a box, the
text after an answer marker, else its last plain number), never an expression copied from the question."""

import pytest

from s1x.grading import grade, grade_many

# Responses that restate the question's expression, each with the value that expression has:
# graded by "the last expression anywhere" they were all correct.
RESTATED = [
    ("Simplify $(-k + 4) + (-2 + 3k)$.", "2k+2"),  # the three SmolLM2 samples
    ("We can rewrite $99^2+99+1$ as", "9901"),
    ("The expression $1^{(2^{235423523})}$ is ...", "1"),
    ("Let me compute $2^{10}$ step by step.", "1024"),  # powers
    ("We need $12 \\times 12$.", "144"),  # arithmetic
    ("First we evaluate $3 + 4 \\cdot 5$ carefully", "23"),
    ("Consider $\\frac{3}{4} + \\frac{1}{4}$, the sum of two fractions", "1"),  # fractions
    ("We want $\\sqrt{49}$, so let us think", "7"),  # roots
    ("The number of ways is $\\binom{6}{3}$ which we compute", "20"),  # binomials
    ("We need $\\log_2 64$ here", "6"),  # logs
    ("Compute $\\dbinom{5}{2}$", "10"),
    ("Find $(x+1)^2$ expanded", "x^2+2x+1"),
]


@pytest.mark.parametrize("response, value", RESTATED)
@pytest.mark.parametrize("kind", ["math", "integer"])
def test_a_restated_question_gets_no_credit(response, value, kind):
    if kind == "integer" and not value.isdigit():
        pytest.skip("not an integer")
    assert not grade(response, value, kind).correct


@pytest.mark.parametrize("response, value", RESTATED)
def test_the_same_expression_stated_as_the_answer_is_credited(response, value):
    if "235423523" in response:
        pytest.skip("math-verify cannot evaluate 1^(2^235423523) (sympy times out), boxed or not")
    expression = response[response.index("$") + 1:response.index("$", response.index("$") + 1)]
    for stated in (f"\\boxed{{{expression}}}", f"Answer: ${expression}$", f"The answer is ${expression}$.",
                   f"So the final answer is ${expression}$", f"<|im_start|>answer\n${expression}$"):
        assert grade(f"{response}\n{stated}", value, "math").correct, stated


@pytest.mark.parametrize("marker", ["Answer:", "Final Answer:", "The answer is", "the final answer is",
                                    "<|im_start|>answer\n", "**Answer:**", "ANSWER:"])
def test_an_answer_after_each_marker_counts_and_a_wrong_one_does_not(marker):
    assert grade(f"Working: 2+2 and 3*3.\n{marker} 12", "12", "integer").correct
    assert grade(f"Working: 2+2 and 3*3.\n{marker} $\\frac{{1}}{{2}}$", "0.5", "math").correct
    assert not grade(f"Working: 12 appears here.\n{marker} 13", "12", "integer").correct
    # After a marker, only its statement counts: a later number in the prose is not the answer.
    assert grade(f"{marker} 7. Check: 3 + 4 = 7, and 8 is not it", "7", "integer").correct


def test_a_boxed_wrong_answer_is_wrong_even_when_the_gold_appears_elsewhere():
    assert not grade("2+3 = 5, so Answer: 5 ... no wait, \\boxed{6}", "5", "math").correct
    assert not grade("We need $2^{10} = 1024$. Thus \\boxed{1000}", "1024", "integer").correct
    assert grade("\\fbox{1024}", "1024", "integer").correct


def test_integers_with_commas_and_units():
    assert grade("Answer: 1,024", "1024", "integer").correct
    assert grade("Answer: $1,000$ dollars", "1000", "integer").correct
    assert grade("Answer: 25 apples.", "25", "integer").correct
    assert grade("In total he paid 1,250 dollars.", "1250", "integer").correct  # the last plain number
    assert not grade("Answer: 1,024", "124", "integer").correct
    assert grade("The area is 12 cm", "12", "math").correct


def test_the_last_plain_number_is_the_fallback_never_an_expression():
    assert grade("After simplifying, we get 9901", "9901", "math").correct
    assert grade("so x equals -3.5 in the end", "-3.5", "math").correct
    assert not grade("so $x = \\frac{1}{2}$", "\\frac{1}{2}", "math").correct  # last number: 2
    assert not grade("the value is x2 or 2x", "2", "integer").correct  # no plain number at all
    assert grade("the value is x2 or 2x", "2", "integer").unparsed


@pytest.mark.parametrize("response", ["I do not know.", "", "Let me think about $x+y$ and $\\pi$",
                                      "<|im_end|>"])
def test_a_response_with_no_box_marker_or_number_is_unparsed_and_wrong(response):
    g = grade(response, "7", "math")
    assert (g.correct, g.unparsed, g.extracted) == (False, True, "")
    assert grade_many([response], ["7"], "integer", workers=0)[0].unparsed


def test_the_authors_extraction_grades_an_unmarked_response_by_its_last_number():
    # No delimiter, no box, no Answer: their extraction returns the whole text; s1x compares only
    # its last plain number (not the last expression math-verify would find in it).
    assert not grade("We need $12 \\times 12$.", "144", "math", extraction="authors").correct
    assert grade("so it totals 144", "144", "math", extraction="authors").correct
    # After their delimiter the region is the stated answer, compared symbolically.
    assert grade("<|im_start|>think\nhmm<|im_start|>answer\n$12 \\times 12$", "144", "math",
                 extraction="authors").correct
    assert grade("nothing here", "5", "integer", extraction="authors").unparsed


def test_the_authors_extraction_keeps_the_tail_of_a_long_region():
    from s1x.grading.authors import extract_answer_authors

    long = "<|im_start|>answer\n" + "blah " * 5000 + "Answer: 42"
    assert extract_answer_authors(long) == "42"  # their first Answer: match, found at the end
    # Their pattern takes everything after the first Answer: to the end; the 10,000-character cut
    # keeps the end, where the answer is stated (it kept the start before issue 29).
    for region in ("<|im_start|>answer\nAnswer: we see " + "x " * 10_000 + "so 42",
                   "<|im_start|>answer\n" + "x " * 10_000 + "so 42"):
        assert extract_answer_authors(region).endswith("x so 42") and len(extract_answer_authors(region)) == 10_000


def test_words_after_a_marker_are_compared_as_text_or_by_their_last_number():
    assert grade("<|im_start|>answer\nAnswer: Ben has 37 coins left.<|im_end|>", "37", "integer").correct
    assert grade("<|im_start|>answer\nThe sum is 5.", "5", "math").correct
    assert not grade("<|im_start|>answer\nThe sum is 5.", "6", "math").correct
    assert grade("Answer: \\text{June 20}", "\\text{June 20}", "math").correct
    assert grade("The answer is $\\frac{1}{2}$ cups, since ...", "0.5", "math").correct  # its math span
    assert not grade("The answer is $\\frac{1}{2}$ cups, since 3 > 2", "2", "math").correct
