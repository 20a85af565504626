"""Grading as the authors (s1x.grading.authors, benchmark extraction/prompt/unparsed_choice, the
judge grader) against a re-statement of their ``process_results`` extraction."""

import re

import pytest

from conftest import compose_config
from s1x.evaluate.sample_records import Grading, cross_grade, grade_texts
from s1x.grading import grade
from s1x.grading.authors import extract_answer_authors


def _their_extraction(a: str) -> str:
    """Their aime/openai_math/gpqa ``process_results``, up to the comparison (written from their code)."""
    split_tokens = ["<|im_start|>answer\n", "<|im_start|>"]
    if split_tokens[0] in a:
        a = a.split(split_tokens[0])[-1]
    elif split_tokens[1] in a:
        a = a.split(split_tokens[1])[-1]
        if "\n" in a:
            a = "\n".join(a.split("\n")[1:])

    def last_boxed_only_string(string):
        idx = string.rfind("\\boxed")
        if "\\boxed " in string:
            return "\\boxed " + string.split("\\boxed ")[-1].split("$")[0]
        if idx < 0:
            idx = string.rfind("\\fbox")
            if idx < 0:
                return None
        i, right, depth = idx, None, 0
        while i < len(string):
            if string[i] == "{":
                depth += 1
            if string[i] == "}":
                depth -= 1
                if depth == 0:
                    right = i
                    break
            i += 1
        return None if right is None else string[idx : right + 1]

    def remove_boxed(s):
        if "\\boxed " in s:
            return s[len("\\boxed "):]
        assert s[: len("\\boxed{")] == "\\boxed{" and s[-1] == "}"
        return s[len("\\boxed{") : -1]

    if (box := last_boxed_only_string(a)) is not None:
        a = remove_boxed(box)
    elif (matches := re.findall(r"(?i)Answer\s*:\s*(.*)", a, re.DOTALL)) != []:
        a = matches[-1]
    return a


TEXTS = [
    "<|im_start|>think\nlong thought\n<|im_start|>answer\nFinal Answer: 42",
    "<|im_start|>think\nAnswer: 3 while thinking\n<|im_start|>answer\nThe answer is \\boxed{\\frac{1}{2}}.",
    "<|im_start|>answer\nAnswer: first\nAnswer: second",
    "<|im_start|>answer\nso \\boxed{1} and then \\boxed{2} wins",
    "<|im_start|>answer\nwe get \\boxed 7$ and \\boxed{8}",
    "<|im_start|>think\nno delimiter after thinking, but the first line goes\nAnswer: 12",
    "<|im_start|>answerAnswer: 5\nmore",
    "plain text without any marker",
    "<|im_start|>answer\nAnswer:   42  \n",
    "<|im_start|>answer\n\\boxed{unclosed",
    "<|im_start|>answer\nanswer : b",
    "<|im_start|>answer\nso \\boxed{1}, not \\fbox{2}",  # their rfind looks for \\boxed first
]


def test_extraction_is_their_rule():
    for text in TEXTS:
        assert extract_answer_authors(text) == _their_extraction(text), text
    # Their text never holds the end of turn (vLLM drops the stop string); s1x's responses do.
    assert extract_answer_authors("<|im_start|>answer\nAnswer: 42<|im_end|>") == "42"
    assert extract_answer_authors("<|im_start|>answer\nAnswer: 42\n") == "42\n"  # nothing stripped


def test_their_fbox_raises_where_s1x_reads_the_box():
    """An ``\\fbox{}`` with no ``\\boxed`` after the delimiter: their ``remove_boxed`` asserts the box
    starts with ``\\boxed{`` and so raises (the sample crashes their scoring); s1x reads its content
    (docs/fidelity.md's reading), and an unclosed ``\\fbox{`` is no box for either."""
    text = "<|im_start|>answer\nthe result is \\fbox{17} here"
    with pytest.raises(AssertionError):
        _their_extraction(text)
    assert extract_answer_authors(text) == "17"
    unclosed = "<|im_start|>answer\nAnswer: 3 \\fbox{17"
    assert extract_answer_authors(unclosed) == _their_extraction(unclosed) == "3 \\fbox{17"


def test_authors_extraction_changes_what_is_graded():
    text = "<|im_start|>answer\nAnswer: 1\nAnswer: 2"
    assert grade(text, "2", "exact").extracted == "2"  # s1x: the last Answer:
    assert grade(text, "2", "exact", extraction="authors").extracted == "1\nAnswer: 2"  # theirs: the first, to the end
    assert not grade(text, "2", "exact", extraction="authors").correct


def _gpqa(setting):
    cfg = compose_config(setting + ["benchmark=[gpqa_diamond]"])
    b = cfg.benchmark.gpqa_diamond
    return b, Grading(b.extraction, b.unparsed_choice)


def test_gpqa_answer_without_a_letter_is_A_in_the_paper_setting_only():
    paper, paper_grading = _gpqa(["setting=paper"])
    tiny, tiny_grading = _gpqa([])
    assert (paper.prompt, paper.extraction, paper.unparsed_choice) == ("authors", "authors", "A")
    assert (tiny.prompt, tiny.extraction, tiny.unparsed_choice) == ("s1x", "s1x", None)
    texts = ["<|im_start|>answer\nI cannot decide between the options.<|im_end|>",
             "<|im_start|>answer\nAnswer: b<|im_end|>", "<|im_start|>answer\nAnswer: (C)<|im_end|>"]
    golds = ["A", "B", "C"]
    got = grade_texts(texts, ["q"] * 3, golds, "choice", paper_grading)
    assert [g.correct for g in got] == [True, True, True] and got[0].extracted == "A"
    got = grade_texts(texts, ["q"] * 3, golds, "choice", tiny_grading)
    # s1x reads a letter in any case (issue 29); the one with no letter is unparsed and wrong.
    assert [g.correct for g in got] == [False, True, True] and got[0].extracted == "" and got[0].unparsed


def test_judge_grader_compares_digits_itself_and_asks_the_llm_otherwise():
    asked = []

    def complete(prompts, temperature, seed):
        asked.extend(prompts)
        return ["Yes" if "answer: 0.5" in p else "No" for p in prompts]

    grading = Grading("authors", None, complete)
    texts = ["<|im_start|>answer\nAnswer: 042", "<|im_start|>answer\nAnswer: 41",
             "<|im_start|>answer\n\\boxed{0.5}", "<|im_start|>answer\nAnswer: x+1"]
    golds = ["42", "42", "\\frac{1}{2}", "x-1"]
    got = grade_texts(texts, ["q1", "q2", "q3", "q4"], golds, "judge", grading)
    assert [g.correct for g in got] == [True, False, True, False]
    assert len(asked) == 2 and "Reference answer: \\frac{1}{2}" in asked[0]  # digits never reach the LLM
    with pytest.raises(ValueError, match="judge.model"):
        grade_texts(texts, ["q"] * 4, golds, "judge", Grading())
    # The disagreement report puts math-verify beside the judge.
    samples = [{"id": str(i), "question": "q", "answer_text": t, "gold": g, "grader": "math", "extracted": "",
                "correct": grade(t, g, "math", extraction="authors").correct} for i, (t, g) in enumerate(zip(texts, golds))]
    report = cross_grade(samples, ["judge"], grading)
    assert all(set(s["grades"]) == {"math", "judge"} for s in samples)
    assert [r["id"] for r in report] == [str(i) for i, s in enumerate(samples) if len(set(s["grades"].values())) > 1]


def test_judge_config_is_checked_before_any_work():
    from s1x.errors import ConfigError
    from s1x.config.checks import validate

    with pytest.raises(ConfigError, match="judge.model"):
        validate(compose_config(["setting=paper", "benchmark.math500.grader=judge"]))
    validate(compose_config(["setting=paper", "benchmark.math500.grader=judge", "judge.model=/models/judge",
                             "judge.engine.name=vllm"]))
    # A judge behind a server: its engine is checked like the main one, under judge.engine.
    served = ["setting=paper", "benchmark.math500.grader=judge", "judge.model=judge-model", "judge.engine.name=openai"]
    with pytest.raises(ConfigError, match=r"judge\.engine\.base_url"):
        validate(compose_config(served))
    validate(compose_config([*served, "judge.engine.base_url=http://127.0.0.1:8000/v1"]))
    with pytest.raises(ConfigError, match="benchmark.tiny-mixed.extraction"):
        validate(compose_config(["benchmark.tiny-mixed.extraction=theirs"]))
    with pytest.raises(ConfigError, match="benchmark.tiny-choice.unparsed_choice"):
        validate(compose_config(["benchmark.tiny-choice.unparsed_choice=E"]))
