"""The authors' answer extraction (``benchmark.<name>.extraction=authors``).

Restated from ``process_results`` in the authors' ``lm_eval/tasks/{aime,openai_math,gpqa}``
(``simplescaling/s1``), in this order:

1. the answer region: the text after the last ``<|im_start|>answer\\n``; failing
   that, after the last ``<|im_start|>`` with its first line dropped;
2. in it, the last ``\\boxed{...}`` (braces balanced; a ``\\boxed `` written with a
   space anywhere wins, read up to the next ``$``), else everything after the
   first ``Answer:`` (case-insensitive; the pattern runs to the end of the text,
   newlines included, so the first match is the only one), else the region itself;
3. nothing is stripped: ``"42\\n"`` is not ``"42"``.

Where their code raises (an ``\\fbox{}``, whose box is not ``\\boxed{``), s1x reads
the box's content; a ``\\boxed`` with no brace after it counts as no box. What
is compared afterwards is the grader's business (:func:`s1x.grading.grade`): their AIME and MATH compare digit strings
as integers and ask an LLM otherwise (``grader=judge``); their GPQA takes the
letter alone (a lower-case one upper-cased), asks an LLM to find one otherwise
(s1x's letter patterns stand in), and counts an answer with no letter as ``A``
(``benchmark.<name>.unparsed_choice``).
"""

from __future__ import annotations

import re

from s1x.grading.stated import MAX_ANSWER_CHARS

ANSWER_MARK = "<|im_start|>answer\n"
SEGMENT_MARK = "<|im_start|>"
_ANSWER_PATTERN = re.compile(r"Answer\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
END_OF_TURN_TEXT = "<|im_end|>"  # vLLM leaves the stop string out of the text; s1x's responses keep it


def answer_region(text: str) -> str:
    """Step 1: the text after the answer delimiter (or after the last segment start, first line dropped)."""
    if ANSWER_MARK in text:
        return text.split(ANSWER_MARK)[-1]
    if SEGMENT_MARK in text:
        tail = text.split(SEGMENT_MARK)[-1]
        return "\n".join(tail.split("\n")[1:]) if "\n" in tail else tail
    return text


def boxed_content(text: str) -> str | None:
    """Step 2's box: the content of the last ``\\boxed{...}`` (or of ``\\boxed `` up to ``$``)."""
    if "\\boxed " in text:
        return text.split("\\boxed ")[-1].split("$")[0]
    start = text.rfind("\\boxed")
    if start < 0:
        start = text.rfind("\\fbox")
        if start < 0:
            return None
    depth, i = 0, start
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                box = text[start : i + 1]
                return box[box.index("{") + 1 : -1] if box.startswith(("\\boxed{", "\\fbox{")) else None
        i += 1
    return None  # no closing brace: their code finds no box either


def authors_answer(text: str) -> tuple[str, str]:
    """The answer the authors' graders compare (steps 1-3 of the module docstring) and where it
    came from: ``box``, ``marker`` (after ``Answer:``, or the region after the answer delimiter)
    or ``unmarked`` (the whole text: no delimiter, no box, no ``Answer:``; or the text after a
    bare segment start). Cut to the last :data:`MAX_ANSWER_CHARS` characters (every step is
    linear in the text; the cut bounds what graders parse and keeps where answers are stated)."""
    if text.endswith(END_OF_TURN_TEXT):
        text = text[: -len(END_OF_TURN_TEXT)]
    region = answer_region(text)
    boxed = boxed_content(region)
    if boxed is not None:
        return boxed[-MAX_ANSWER_CHARS:], "box"
    found = _ANSWER_PATTERN.findall(region)
    if found:
        return found[-1][-MAX_ANSWER_CHARS:], "marker"
    return region[-MAX_ANSWER_CHARS:], "marker" if ANSWER_MARK in text else "unmarked"


def extract_answer_authors(text: str) -> str:
    """The answer the authors' graders compare (:func:`authors_answer` without its source)."""
    return authors_answer(text)[0]
