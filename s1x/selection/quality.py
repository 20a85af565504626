"""Quality rules of the curation funnel (PAPER.md 1.2): flags that drop a pool problem.

A problem passes the quality filter when none of its flags is set. Two rule
sets, chosen by ``selection.quality_rules``:

- ``notebook`` (the paper setting): the authors' ``data/filter.ipynb``, cell 7,
  case-sensitive tests on the question only: ``[asy]``, ``![Image]``, any
  ``p{i}.`` for i in 1..999 anywhere in the text (``Step1.`` and ``group1.``
  match), and the regex ``\\*\\*(?=.*\\d)[^\\s\\]]*\\*\\*``. A question with
  ``[asy]`` whose source type contains ``AIME`` (case-sensitive) passes
  whatever else it contains: the notebook's ``elif`` keeps it back.
- ``s1x`` (the tiny world's default): narrower patterns that aim at the same
  faults with fewer false hits (``p1.`` only opening a line, bold *numbers*
  only, case-insensitive ``[asy]``, any image markup), plus a missing trace and
  an API error text as flags (the notebook leaves those to its missing-value
  step).
"""

from __future__ import annotations

import re

# ---- the notebook's rules
# "p{i}." for i in 1..999 as a substring: 'p', a number without leading zero of 1-3 digits, '.'.
# A regex instead of 999 substring tests; tests/selection/test_quality_msc.py checks both agree.
_NB_NUMBERING = re.compile(r"p[1-9][0-9]{0,2}\.")
_NB_BOLD = re.compile(r"\*\*(?=.*\d)[^\s\]]*\*\*")
NOTEBOOK_FLAGS = ("asy", "image", "numbering", "bold_number")

# ---- s1x's rules
_ASY = re.compile(r"\[asy\]", re.IGNORECASE)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[image\]|\[img\]|<img\b", re.IGNORECASE)
_P_NUMBERING = re.compile(r"(?:^|\n)\s*p\d+\.\s", re.IGNORECASE)  # "p1. " opening a line
_BOLD_NUMBER = re.compile(r"\*\*\s*\(?\d+[.)]?\s*\*\*")
_GENERATION_ERROR = re.compile(r"^\s*(?:error|exception|rate limit|internal server error)\b", re.IGNORECASE)
FLAGS = ("missing_trace", "generation_error", "asy", "image", "numbering", "bold_number")

RULES = ("notebook", "s1x")


def notebook_quality_flags(question: str, source: str) -> dict[str, bool]:
    """The notebook's quality test as flags (True = drop). An ``[asy]`` question from a source
    type containing ``AIME`` has no flag set, as the notebook keeps it whatever else matches."""
    asy = "[asy]" in question
    if asy and "AIME" in source:
        return dict.fromkeys(NOTEBOOK_FLAGS, False)
    return {
        "asy": asy,
        "image": "![Image]" in question,
        "numbering": _NB_NUMBERING.search(question) is not None,
        "bold_number": _NB_BOLD.search(question) is not None,
    }


def quality_flags(question: str, trace: str, attempt: str, source: str) -> dict[str, bool]:
    """s1x's rules: every flag of :data:`FLAGS` for one problem (True = drop it)."""
    return {
        "missing_trace": not trace.strip(),
        "generation_error": bool(_GENERATION_ERROR.match(trace) or _GENERATION_ERROR.match(attempt or "")),
        "asy": bool(_ASY.search(question)) and "aime" not in source.lower(),
        "image": bool(_IMAGE.search(question)),
        "numbering": bool(_P_NUMBERING.search(question)),
        "bold_number": bool(_BOLD_NUMBER.search(question)),
    }


def flags_under(rules: str, question: str, trace: str, attempt: str, source: str) -> dict[str, bool]:
    """The flags of one problem under ``rules`` (``notebook`` or ``s1x``)."""
    if rules == "notebook":
        return notebook_quality_flags(question, source)
    if rules == "s1x":
        return quality_flags(question, trace, attempt, source)
    raise ValueError(f"selection.quality_rules={rules!r} is not one of {list(RULES)}")
