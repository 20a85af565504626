"""Answer extraction and the rule-based graders (``s1x.grading.grade``).

``grade(prediction, gold, kind)`` takes the model's answer text (or the whole
response), finds the answer it states and compares it with ``gold``:

- ``math``: the stated answer (:mod:`s1x.grading.stated`: the last box, else after the
  last answer marker, else the last plain number; none: ``unparsed``, wrong). A box or
  marked expression is compared by math-verify equivalence (``\\frac{1}{2}`` == ``0.5``,
  ``(3, \\frac{\\pi}{2})`` == ``\\left( 3, \\frac{\\pi}{2} \\right)``), falling back to
  normalised string equality where math-verify parses nothing; a plain number as a number;
  an expression found anywhere else is never compared (a restated question earns nothing);
- ``integer``: equal as integers ("025" == "25", "1,000 dollars" == "1000", AIME), falling back to ``math``;
- ``choice``: the option letter (:mod:`s1x.grading.choice`), in any case, boxed, bold or
  bracketed, never from a letter inside an expression (``\\Delta E``); two different letters: unparsed;
- ``exact``: equal after trimming whitespace and a trailing period (the tiny world), on the
  text after the last ``Answer:`` / ``Final Answer:`` (its last ``\\boxed{...}`` if any).

Model text is only ever matched with bounded regular
expressions and parsed by math-verify's grammar, never executed or evaluated;
inputs are cut to :data:`MAX_ANSWER_CHARS` (their tail). A pathological input can still
make sympy slow: :func:`s1x.grading.parallel.grade_many` grades in worker processes and kills any
that overruns its time limit (that answer is graded wrong, ``timed_out``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s1x.grading.choice import choice_letter
from s1x.grading.authors import authors_answer, extract_answer_authors
from s1x.grading.stated import MAX_ANSWER_CHARS, NUMBER, PROSE, Stated, last_boxed, last_number, stated_answer

KINDS = ("exact", "integer", "choice", "math")
_ANSWER_RE = re.compile(r"(?:Final Answer|Answer)\s*:", re.IGNORECASE)
MATH_TIMEOUT_S = 3  # math-verify's own limit per parse/verify (inside a worker: the hard limit is grade_many's)


@dataclass(frozen=True)
class Grade:
    correct: bool
    extracted: str  # the answer as extracted from the prediction
    timed_out: bool = False
    unparsed: bool = False  # the prediction states no answer (no box, marker, number or letter)


def extract_answer(text: str) -> str:
    """The final answer: after the last ``Answer:`` (or ``Final Answer:``), its last ``\\boxed{}`` if any."""
    text = text[-MAX_ANSWER_CHARS:].replace("<|im_end|>", "")
    matches = list(_ANSWER_RE.finditer(text))
    tail = text[matches[-1].end() :] if matches else text
    boxed = last_boxed(tail)
    if boxed is not None:
        tail = boxed
    return tail.strip().rstrip(".").strip()


# benchmark.<name>.extraction -> how a final answer is read from a response: s1x's (the last
# Answer:, its last box) or the authors' (after <|im_start|>answer, last box, else Answer:).
# Every reader of a final answer (graders, the judge, choice letters by LLM) picks from here.
EXTRACTORS = {"s1x": extract_answer, "authors": extract_answer_authors}
EXTRACTIONS = tuple(EXTRACTORS)


def _as_int(s: str) -> int | None:
    s = s.replace(",", "").replace("$", "").strip()
    return int(s) if re.fullmatch(r"[+-]?\d{1,100}", s) else None


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s.replace("$", "").replace("\\!", "").replace("\\,", "")).rstrip(".").lower()


def _math_equal(answer: str, gold: str) -> bool:
    from math_verify import parse, verify

    wrap = lambda s: s if "$" in s or "\\boxed" in s else f"${s}$"  # noqa: E731 - math-verify reads LaTeX in $...$
    gold_parsed = parse(wrap(gold), parsing_timeout=MATH_TIMEOUT_S)
    answer_parsed = parse(wrap(answer), parsing_timeout=MATH_TIMEOUT_S)
    if gold_parsed and answer_parsed:
        if verify(gold_parsed, answer_parsed, timeout_seconds=MATH_TIMEOUT_S):
            return True
    return _norm(answer) == _norm(gold) and bool(_norm(gold))


def _stated(prediction: str, extraction: str) -> Stated:
    """The answer to compare: s1x's stated answer (:mod:`s1x.grading.stated`), or the authors'
    extraction, whose whole-text answer (no delimiter, box or ``Answer:``) counts as unmarked:
    only its last plain number is compared (their LLM reads the text; math-verify would pick any
    expression in it)."""
    if extraction == "authors":
        answer, source = authors_answer(prediction)
        if source != "unmarked":
            return Stated(answer, source)
        number = last_number(answer)
        return Stated(number, NUMBER) if number is not None else Stated("", None)
    return stated_answer(prediction[-MAX_ANSWER_CHARS:].replace("<|im_end|>", ""))


def _leading_int(s: str) -> int | None:
    """The integer a stated answer opens with ("1,000 dollars", "$25$ apples"), if any."""
    m = re.match(r"\s*\$?\s*([+-]?\d{1,3}(?:,\d{3})+|[+-]?\d{1,100})\$?(?=\s+[A-Za-z][A-Za-z\s]{0,40}$)", s)
    return _as_int(m.group(1)) if m else None


def _compare_number(number: str, gold: str) -> bool:
    """A plain number found without a box or marker, compared as a number (never symbolically)."""
    a, g = _as_int(number), _as_int(gold)
    if a is not None and g is not None:
        return a == g
    return _math_equal(number.replace(",", ""), gold)


def same_answer(answer: str, other: str, kind: str) -> bool:
    """Whether two answers already extracted (a :attr:`Grade.extracted`, a gold) are the same answer
    for grader ``kind``: no statement is looked for, since both are statements already (majority
    vote's ballots compare extracted answers this way: ``1/2`` and ``\\frac{1}{2}`` are one)."""
    if kind not in KINDS:
        raise ValueError(f"grader kind {kind!r} is not one of: {', '.join(KINDS)}")
    answer, other = str(answer).strip(), str(other).strip()
    if answer == other:
        return True
    if kind == "choice":
        return choice_letter(answer) is not None and choice_letter(answer) == choice_letter(other)
    if kind == "exact":
        return answer.rstrip(".") == other.rstrip(".")
    a, b = _as_int(answer), _as_int(other)
    if a is not None and b is not None:
        return a == b
    return _math_equal(answer, other)


def grade(prediction: str, gold: str, kind: str, extraction: str = "s1x", unparsed_choice: str | None = None) -> Grade:
    """Grade ``prediction`` against ``gold`` with the grader ``kind`` (math, integer, choice, exact).

    ``math`` and ``integer`` credit only an answer the prediction states (a box, the text after
    an answer marker, else its last plain number; :mod:`s1x.grading.stated`); one that states
    none is ``unparsed`` and wrong. ``extraction``: ``s1x`` or ``authors`` (their rule,
    :mod:`s1x.grading.authors`). ``unparsed_choice``: the letter a choice answer with no letter
    (or two different ones) counts as (the authors' ``A``); None grades it wrong."""
    if kind not in KINDS:
        raise ValueError(f"grader kind {kind!r} is not one of: {', '.join(KINDS)}")
    if extraction not in EXTRACTIONS:
        raise ValueError(f"answer extraction {extraction!r} is not one of: {', '.join(EXTRACTIONS)}")
    gold = str(gold).strip()[:MAX_ANSWER_CHARS]
    if kind in ("math", "integer"):
        stated = _stated(prediction, extraction)
        if stated.source is None:
            return Grade(False, "", unparsed=True)
        if stated.source == PROSE:  # words: equal as text ("\\text{June 20}"), else its last number
            number = last_number(stated.text)
            same = _norm(stated.text) == _norm(gold) or (number is not None and _compare_number(number, gold))
            return Grade(same, stated.text)
        if not stated.symbolic:
            return Grade(_compare_number(stated.text, gold), stated.text)
        answer = stated.text
        if kind == "integer":
            a, g = _as_int(answer), _as_int(gold)
            if a is None and g is not None:
                a = _leading_int(answer)
            if a is not None and g is not None:
                return Grade(a == g, answer)
        return Grade(_math_equal(answer, gold), answer)
    if extraction == "authors":
        answer = extract_answer_authors(prediction)
    else:  # choice reads the whole answer text: two different letters stated anywhere are ambiguous
        answer = extract_answer(prediction) if kind == "exact" else prediction[-MAX_ANSWER_CHARS:]
        answer = answer.replace("<|im_end|>", "")
    if kind == "choice":
        # Their GPQA takes a lone letter as it is (a-d upper-cased); s1x's letter reading stands in
        # for the LLM they ask otherwise.
        letter = answer.upper() if extraction == "authors" and answer in ("a", "b", "c", "d") else None
        letter = letter or choice_letter(answer)
        unparsed = letter is None
        letter = letter or (unparsed_choice or "")
        return Grade(letter == gold.strip("()").upper(), letter, unparsed=unparsed)
    return Grade(answer == gold.rstrip(".").strip(), answer)
