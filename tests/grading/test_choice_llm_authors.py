"""benchmark.<name>.choice_llm: the authors' GPQA letter extraction by an LLM (their
``lm_eval/tasks/gpqa/openai/utils.py`` ``process_results``), against a re-statement of their
loop written here, their template's digest, and a scripted judge."""

import hashlib

from conftest import compose_config
from s1x.evaluate.sample_records import Grading, grade_texts
from s1x.grading.authors import extract_answer_authors
from s1x.grading.authors_choice import api_question, letter_prompt
from s1x.errors import ConfigError
from s1x.config.checks import validate

# sha256 of their EXTRACTION_TEMPLATE (after .strip()) in tasks/gpqa/openai/utils.py, simplescaling/s1 @ 77272c6.
THEIR_TEMPLATE_SHA256 = "77e32e64c079e649b99645270d814ce5016ceb00014e470ae587a4db4bb8a61c"


def _their_query_api(doc: dict) -> str:
    return "{Question}\nAnswer Choices:\n(A) {choice1}\n(B) {choice2}\n(C) {choice3}\n(D) {choice4}".format(**doc)


def _scripted(question: str, attempt: str) -> str:
    if "Elephant" in attempt:
        return "B"
    if "no idea" in attempt:
        return "-1"
    if "picked" in attempt:
        return "The student picked C"  # not a bare letter: their code falls back to A
    return "D"


def _their_letters(texts: list[str], question: str, sampler) -> list[str]:
    """Their loop: the extracted answer; a-d upper-cased; else the LLM; else A."""
    out = []
    for t in texts:
        a = extract_answer_authors(t)
        if a in ["a", "b", "c", "d"]:
            a = a.upper()
        if a not in ["A", "B", "C", "D"]:
            a = sampler(question, a)
        if a not in ["A", "B", "C", "D"]:
            a = "A"
        out.append(a)
    return out


def test_choice_llm_template_and_question_are_the_authors():
    theirs = letter_prompt("%(expression1)s", "%(expression2)s")
    assert hashlib.sha256(theirs.encode()).hexdigest() == THEIR_TEMPLATE_SHA256
    doc = {"Question": "Which animal is largest? ", "choice1": "Cat", "choice2": "Elephant ", "choice3": "Dog",
           "choice4": "Ant"}
    assert api_question(doc["Question"], [doc[f"choice{i}"] for i in range(1, 5)]) == _their_query_api(doc)


def test_choice_llm_letters_equal_their_loop():
    question = _their_query_api({"Question": "Q?", "choice1": "Cat", "choice2": "Elephant", "choice3": "Dog",
                                 "choice4": "Ant"})
    texts = ["<|im_start|>answer\nAnswer: b", "<|im_start|>answer\nAnswer: The answer is therefore Elephant",
             "<|im_start|>answer\nAnswer: no idea", "<|im_start|>answer\nAnswer: I picked the third",
             "<|im_start|>answer\n\\boxed{C}", "<|im_start|>answer\nAnswer: (C)"]
    calls = []

    def complete(prompts, temperature, seed):
        calls.append((len(prompts), temperature))
        return [_scripted(question, p.rsplit("\n    Attempt: ", 1)[1]) for p in prompts]

    grading = Grading(extraction="authors", unparsed_choice="A", judge=complete, choice_llm=True)
    golds = ["B", "B", "A", "C", "C", "C"]
    grades = grade_texts(texts, ["Q?"] * len(texts), golds, "choice", grading, [question] * len(texts))
    want = _their_letters(texts, question, _scripted)
    assert [g.extracted for g in grades] == want == ["B", "B", "A", "A", "C", "D"]
    assert [g.correct for g in grades] == [w == g for w, g in zip(want, golds)]
    assert calls == [(4, 0.5)]  # one batch: the 4 answers that are not a letter themselves
    # Off (the default): s1x's letter patterns read "(C)" as C, and no LLM is asked.
    off = grade_texts(texts, ["Q?"] * len(texts), golds, "choice", Grading(extraction="authors", unparsed_choice="A"))
    assert off[5].extracted == "C" and len(calls) == 1


def test_choice_llm_is_off_by_default_and_needs_a_judge():
    for over in (["benchmark=gpqa_diamond"], ["setting=paper"]):
        assert compose_config(over).benchmark.gpqa_diamond.choice_llm is False, over
    cfg = compose_config(["setting=paper", "benchmark.gpqa_diamond.choice_llm=true"])
    try:
        validate(cfg)
        raise AssertionError("choice_llm without judge.model was accepted")
    except ConfigError as e:
        assert "judge.model" in str(e)
    validate(compose_config(["setting=paper", "benchmark.gpqa_diamond.choice_llm=true", "judge.model=some/judge"]))
