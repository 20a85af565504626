"""An LLM judge for answers rule-based graders cannot compare (PAPER.md 5: the authors used an
LLM to extract and compare math answers), through any engine.

The protocol: show the judge the question, the reference answer and the
model's final answer, ask whether they are equivalent, and read a Yes/No
verdict (the last "Yes" or "No" in its reply). A reply with neither verdict
is asked again with sampling; if it never gives one, the answer is graded
wrong and marked ``undecided``.

As a benchmark grader (``benchmark.<name>.grader=judge``) it follows the authors'
rule (their AIME and MATH ``process_results``): when the extracted answer and
the gold are both digit strings they are compared as integers and no LLM is
asked (``digits_first``); otherwise the LLM decides. Their LLM is gpt-4o-mini
with an option-index prompt: ``protocol="authors"`` re-states it
(:mod:`s1x.grading.authors_judge`); ``s1x`` asks s1x's own Yes/No question (docs/fidelity.md).
Either runs on any engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from s1x.grading.graders import EXTRACTORS, MAX_ANSWER_CHARS

Complete = Callable[[Sequence[str], float, int], list[str]]
_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def judge_prompt(question: str, gold: str, answer: str) -> str:
    """The judge's prompt for one answer."""
    return (
        "You are checking a student's final answer against the reference answer of a math problem.\n"
        "Say Yes if the two answers are mathematically equivalent (the same value, set, expression "
        "or choice, possibly written differently), otherwise say No. Do not solve the problem again.\n\n"
        f"Problem:\n{question[:4000]}\n\nReference answer: {gold[:2000]}\n"
        f"Student's final answer: {answer[:2000]}\n\nAre they equivalent? Reply with Yes or No."
    )


def parse_verdict(reply: str) -> bool | None:
    """True for Yes, False for No (the last one in the reply wins), None for neither."""
    found = _VERDICT.findall(reply[-MAX_ANSWER_CHARS:])
    return None if not found else found[-1].lower() == "yes"


@dataclass(frozen=True)
class JudgeGrade:
    correct: bool
    extracted: str
    undecided: bool
    reply: str


PROTOCOLS = ("s1x", "authors")


def judge_grade_many(questions: Sequence[str], predictions: Sequence[str], golds: Sequence[str], complete: Complete,
                     retries: int = 1, seed: int = 0, extraction: str = "s1x", digits_first: bool = False,
                     protocol: str = "s1x", template: str = "math") -> list[JudgeGrade]:
    """Judge every prediction (its extracted final answer, ``extraction`` s1x or authors) against
    its gold answer; with ``digits_first``, digit strings are compared as integers without the LLM.
    ``protocol="authors"``: their option-index check (``template`` math or aime; digit strings
    always compared first; ``retries`` unused: they ask once), see :mod:`s1x.grading.authors_judge`."""
    extract = EXTRACTORS[extraction]
    answers = [extract(p) for p in predictions]
    if protocol == "authors":
        from s1x.grading.authors_judge import authors_check_many

        return [JudgeGrade(ok, mapped, not decided, reply[-500:]) for ok, mapped, decided, reply in
                authors_check_many(questions, answers, golds, complete, seed, template)]
    if protocol != "s1x":
        raise ValueError(f"judge.protocol={protocol!r}: must be one of {', '.join(PROTOCOLS)}")
    verdicts: list[bool | None] = [None] * len(answers)
    replies = [""] * len(answers)
    todo = list(range(len(answers)))
    if digits_first:
        for i, (a, g) in enumerate(zip(answers, golds)):
            g = str(g).strip()
            if a.isdigit() and g.isdigit() and a.isascii() and g.isascii():
                verdicts[i], replies[i] = int(a) == int(g), "(digits compared, no LLM asked)"
        todo = [i for i in todo if verdicts[i] is None]
    for attempt in range(retries + 1):
        if not todo:
            break
        out = complete([judge_prompt(questions[i], golds[i], answers[i]) for i in todo],
                       0.0 if attempt == 0 else 0.7, seed + attempt)
        for i, reply in zip(todo, out):
            replies[i] = reply
            verdicts[i] = parse_verdict(reply)
        todo = [i for i in todo if verdicts[i] is None]
    return [JudgeGrade(bool(v), a, v is None, r[-500:]) for v, a, r in zip(verdicts, answers, replies)]
