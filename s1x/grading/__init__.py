"""Grading: extract a model's final answer and decide whether it is right.

Owns the rule-based graders (:mod:`~s1x.grading.graders`: math, integer,
choice, exact), the authors' answer extraction (:mod:`~s1x.grading.authors`),
grading many answers in killable worker processes (:mod:`~s1x.grading.parallel`)
and the LLM judge (:mod:`~s1x.grading.judge`).
May import the shared core only; never engines, methods or the pipeline (the
judge takes a completion function, built by whoever owns the engine).

To add a grader: a branch in :func:`~s1x.grading.graders.grade` and its name in
:data:`~s1x.grading.graders.KINDS`; a benchmark picks it with ``benchmark.<name>.grader``.

Public API (a contract outside tools use)::

    from s1x.grading import grade, grade_many
    grade(prediction, gold, kind).correct
    grade(prediction, gold, kind, extraction="authors", unparsed_choice="A")  # the authors' reading
    same_answer(extracted_a, extracted_b, kind)  # two extracted answers, e.g. majority's ballots
"""

from s1x.grading.graders import KINDS, MAX_ANSWER_CHARS, Grade, extract_answer, grade, last_boxed, same_answer
from s1x.grading.parallel import grade_many

__all__ = ["KINDS", "MAX_ANSWER_CHARS", "Grade", "extract_answer", "grade", "grade_many", "last_boxed", "same_answer"]
