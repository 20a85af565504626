"""Answer extraction and grading. Public API: ``from s1x.grading import grade``.

``grade(prediction, gold, kind)`` takes the model's answer text (or the whole
response), extracts the final answer after the last ``Answer:`` and compares
it with ``gold``:

- ``exact``: equal after trimming whitespace and a trailing period;
- ``integer``: equal as integers ("025" == "25"), falling back to exact;
- ``choice``: the option letter, from ``B``, ``(B)`` or ``B) ...``.

Model text is only ever matched with bounded regular expressions, never
executed or evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("exact", "integer", "choice")
_ANSWER_RE = re.compile(r"(?:Final Answer|Answer)\s*:", re.IGNORECASE)
_CHOICE_RE = re.compile(r"^\(?([A-D])\)?(?:$|[\s.,:)])")
MAX_ANSWER_CHARS = 10_000  # longer answers are cut before matching: graded, never slow


@dataclass(frozen=True)
class Grade:
    correct: bool
    extracted: str  # the answer as extracted from the prediction


def extract_answer(text: str) -> str:
    """The text after the last ``Answer:`` (or ``Final Answer:``), up to end of turn."""
    text = text[-MAX_ANSWER_CHARS:].replace("<|im_end|>", "")
    matches = list(_ANSWER_RE.finditer(text))
    tail = text[matches[-1].end() :] if matches else text
    return tail.strip().rstrip(".").strip()


def _as_int(s: str) -> int | None:
    s = s.replace(",", "").strip()
    return int(s) if re.fullmatch(r"[+-]?\d{1,100}", s) else None


def grade(prediction: str, gold: str, kind: str) -> Grade:
    """Grade ``prediction`` against ``gold`` with the grader ``kind`` (exact, integer, choice)."""
    if kind not in KINDS:
        raise ValueError(f"grader kind {kind!r} is not one of: {', '.join(KINDS)}")
    answer = extract_answer(prediction)
    gold = gold.strip()
    if kind == "choice":
        m = _CHOICE_RE.match(answer)
        letter = m.group(1) if m else ""
        return Grade(letter == gold.strip("()").upper(), letter)
    if kind == "integer":
        a, g = _as_int(answer), _as_int(gold)
        if a is not None and g is not None:
            return Grade(a == g, answer)
    return Grade(answer == gold.rstrip(".").strip(), answer)
