"""The answer a response states (what the ``math`` and ``integer`` graders compare).

A response earns credit only for an answer it states, never for an expression it
copies from the question ("We need $12 \\times 12$." is not 144). In order:

1. ``box``: the content of the last ``\\boxed{}`` / ``\\fbox{}``;
2. ``marker``: the text after the last answer marker (``Answer:``, ``Final Answer:``,
   "the answer is", "final answer is", or s1x's answer delimiter ``<|im_start|>answer``),
   its first non-empty line, cut at the end of its first sentence: its last ``$...$`` if it
   has one, else the statement, an expression (``marker``) or words (``prose``: "Ben has 37
   coins left", compared as text, else by its last plain number);
3. ``number``: with neither, the last plain number of the response (``-12``, ``1,024``,
   ``3.5``; the fallback of common math harnesses: Qwen2.5-Math's evaluation, lm-eval's
   gsm8k ``flexible-extract``), never a symbolic expression;
4. none of these: the response is unparsed (graded wrong, counted as ``unparsed``).

Only the box and marker sources may be compared symbolically (math-verify); a number
found by rule 3 is compared as a number. Matching uses bounded regular expressions on
text cut to :data:`~s1x.grading.graders.MAX_ANSWER_CHARS` (its tail: where answers are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOX, MARKER, PROSE, NUMBER = "box", "marker", "prose", "number"
MAX_ANSWER_CHARS = 10_000  # longer answers are cut before matching: graded, never slow to match
DELIMITER_TEXT = "<|im_start|>answer"  # s1x's end-of-thinking delimiter (s1x.formatting.THINK_END)
_MARKER_RE = re.compile(
    r"(?:final answer|answer)\s*:|(?:the )?(?:final )?answer is\s*:?|" + re.escape(DELIMITER_TEXT),
    re.IGNORECASE)
# A plain number: digits with optional thousands commas and decimals, not glued to a letter or
# to another digit group (so "x2" and "2x" are not numbers, "1,024" is one).
_NUMBER_RE = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")
_SENTENCE_END_RE = re.compile(r"\.(?:\s|$)")
_MATH_SPAN_RE = re.compile(r"\$\$?([^$]{1,2000})\$\$?|\\\((.{1,2000}?)\\\)|\\\[(.{1,2000}?)\\\]")
_LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
_WORD_RE = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Stated:
    """The stated answer and where it was found: ``box``, ``marker`` (an expression after a marker),
    ``prose`` (words after a marker, no math in them: "Ben has 37 coins left"), ``number``; None: unparsed."""

    text: str
    source: str | None

    @property
    def symbolic(self) -> bool:
        """True when the answer may be compared as an expression (a box or after a marker)."""
        return self.source in (BOX, MARKER)


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


def after_marker(text: str) -> str | None:
    """The statement after the last answer marker: its first non-empty line, to the end of its
    first sentence, without bold marks or a trailing period; None when there is no marker."""
    matches = list(_MARKER_RE.finditer(text))
    if not matches:
        return None
    tail = text[matches[-1].end():].replace("**", "").lstrip(" \t:\n")
    line = tail.split("\n", 1)[0]
    end = _SENTENCE_END_RE.search(line)
    return (line[: end.start()] if end else line).strip().rstrip(".").strip()


def last_number(text: str) -> str | None:
    """The last plain number of ``text`` (commas kept as written); None if there is none."""
    found = None
    for found in _NUMBER_RE.finditer(text):
        pass
    return found.group(0) if found else None


def stated_answer(text: str) -> Stated:
    """The answer ``text`` states: its last box, else after its last marker, else its last plain
    number; ``Stated("", None)`` when it states none."""
    boxed = last_boxed(text)
    if boxed is not None:
        return Stated(boxed.strip(), BOX)
    marked = after_marker(text)
    if marked:
        spans = _MATH_SPAN_RE.findall(marked)
        if spans:  # "The answer is $\\frac{1}{2}$ cups": the last math span is the answer
            return Stated(next(part for part in spans[-1] if part).strip(), MARKER)
        is_prose = _WORD_RE.search(_LATEX_COMMAND_RE.sub(" ", marked)) is not None
        return Stated(marked, PROSE if is_prose else MARKER)
    number = last_number(text)
    if number is not None:
        return Stated(number, NUMBER)
    return Stated("", None)
