"""Answer extraction and the rule-based graders (``s1x.grading.grade``).

``grade(prediction, gold, kind)`` takes the model's answer text (or the whole
response), extracts the final answer and compares it with ``gold``:

- ``math``: math-verify equivalence of the gold answer and the extracted one
  (``\\frac{1}{2}`` == ``0.5``, ``(3, \\frac{\\pi}{2})`` == ``\\left( 3, \\frac{\\pi}{2} \\right)``),
  falling back to normalised string equality where math-verify parses nothing;
- ``integer``: equal as integers ("025" == "25", AIME), falling back to ``math``;
- ``choice``: the option letter, from ``B``, ``(B)``, ``B) ...``, ``\\boxed{B}``
  or ``**B**``, never from a letter inside an expression (``\\Delta E``);
- ``exact``: equal after trimming whitespace and a trailing period (the tiny world).

The final answer is the text after the last ``Answer:`` / ``Final Answer:``,
and inside it (or, without such a prefix, in the whole text) the last
``\\boxed{...}``. Model text is only ever matched with bounded regular
expressions and parsed by math-verify's grammar, never executed or evaluated;
inputs are cut to :data:`MAX_ANSWER_CHARS`. A pathological input can still
make sympy slow: :func:`s1x.grading.parallel.grade_many` grades in worker processes and kills any
that overruns its time limit (that answer is graded wrong, ``timed_out``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("exact", "integer", "choice", "math")
EXTRACTIONS = ("s1x", "authors")
_ANSWER_RE = re.compile(r"(?:Final Answer|Answer)\s*:", re.IGNORECASE)
_CHOICE_RES = (
    re.compile(r"^\**\s*\(?([A-D])\)?\**(?:$|[\s.,:;)])"),  # B / (B) / B) text / **B**
    re.compile(r"\\boxed\{\s*\(?([A-D])\)?\s*\}"),  # \boxed{B}
    re.compile(r"(?:^|[\s(])(?:option|choice|answer is)\s*\(?([A-D])\)?(?:$|[\s.,:;)])", re.IGNORECASE),
)
MAX_ANSWER_CHARS = 10_000  # longer answers are cut before matching: graded, never slow to match
MATH_TIMEOUT_S = 3  # math-verify's own limit per parse/verify (inside a worker: the hard limit is grade_many's)


@dataclass(frozen=True)
class Grade:
    correct: bool
    extracted: str  # the answer as extracted from the prediction
    timed_out: bool = False


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None if there is none."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth, j = 1, i
    while j < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
    return text[i : j - 1] if depth == 0 else text[i:]


def extract_answer(text: str) -> str:
    """The final answer: after the last ``Answer:`` (or ``Final Answer:``), its last ``\\boxed{}`` if any."""
    text = text[-MAX_ANSWER_CHARS:].replace("<|im_end|>", "")
    matches = list(_ANSWER_RE.finditer(text))
    tail = text[matches[-1].end() :] if matches else text
    boxed = last_boxed(tail)
    if boxed is not None:
        tail = boxed
    return tail.strip().rstrip(".").strip()


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


def grade(prediction: str, gold: str, kind: str, extraction: str = "s1x", unparsed_choice: str | None = None) -> Grade:
    """Grade ``prediction`` against ``gold`` with the grader ``kind`` (math, integer, choice, exact).

    ``extraction``: ``s1x`` (the last ``Answer:``, its last box) or ``authors`` (their rule,
    :mod:`s1x.grading.authors`). ``unparsed_choice``: the letter a choice answer with no letter
    counts as (the authors' ``A``); None grades it wrong."""
    if kind not in KINDS:
        raise ValueError(f"grader kind {kind!r} is not one of: {', '.join(KINDS)}")
    if extraction not in EXTRACTIONS:
        raise ValueError(f"answer extraction {extraction!r} is not one of: {', '.join(EXTRACTIONS)}")
    if extraction == "authors":
        from s1x.grading.authors import extract_answer_authors

        answer = extract_answer_authors(prediction)
    else:
        answer = extract_answer(prediction)
    gold = str(gold).strip()[:MAX_ANSWER_CHARS]
    if kind == "choice":
        letter = answer.upper() if extraction == "authors" and answer in ("a", "b", "c", "d") else ""
        for pattern in _CHOICE_RES if not letter else ():
            m = pattern.search(answer) if pattern is not _CHOICE_RES[0] else pattern.match(answer)
            if m:
                letter = m.group(1)
                break
        letter = letter or (unparsed_choice or "")
        return Grade(letter == gold.strip("()").upper(), letter)
    if kind == "integer":
        a, g = _as_int(answer), _as_int(gold)
        if a is not None and g is not None:
            return Grade(a == g, answer)
        return Grade(_math_equal(answer, gold), answer)
    if kind == "math":
        return Grade(_math_equal(answer, gold), answer)
    return Grade(answer == gold.rstrip(".").strip(), answer)
