"""The option letter a multiple-choice answer states (the ``choice`` grader).

Models write a letter in many forms: ``B``, ``(b)``, ``[D]``, ``b.``, ``**B**``,
``\\textbf{B}``, ``\\boxed{\\text{C}}``, ``\\boxed{\\mathrm{B}}``, a full-width ``Ｃ``,
"The correct option is C", ``Answer: (b)``. The letter is read, in any case, from a box,
after an answer phrase, or from an answer that is nothing but the letter; never from a
letter inside an expression or a word (``\\Delta E``, "a prime"). When two different
letters are stated as the answer ("Answer: B ... the answer is C", two boxes), the
answer is ambiguous and no letter is returned: s1x does not guess.
"""

from __future__ import annotations

import re
import unicodedata

LETTERS = "ABCD"
# Wrappers a letter may sit in: LaTeX text commands, parentheses, brackets, bold.
_WRAPPERS_RE = re.compile(r"\\(?:text|mathrm|textbf|mathbf|textrm|mathit|textit)\s*\{([^{}]{0,20})\}")
_BOX_RE = re.compile(r"\\(?:boxed|fbox)\{([^{}]{0,40}(?:\{[^{}]{0,20}\}[^{}]{0,10})?)\}")
# A letter alone: optional opening bracket, the letter, optional closing bracket, then an end.
_ALONE = r"[(\[]?\s*([A-Da-d])\s*[)\]]?"
_ALONE_RE = re.compile(rf"^\s*{_ALONE}\s*(?:$|[.:,;]|\)|\s+-)", re.DOTALL)
_UPPER_LEAD_RE = re.compile(r"^\s*[(\[]?\s*([A-D])\s*(?:[)\]]|\s|$)")  # "B) 14", "B is right", "(C) text"
_PHRASE_RE = re.compile(
    r"(?:final answer|answer)\s*:|(?:correct |final |right |best )?(?:answer|option|choice)\s+(?:is|would be)\s*:?"
    r"|(?:^|\s)(?:option|choice)\s+(?=[(\[]?[A-Da-d]\b)|<\|im_start\|>answer",
    re.IGNORECASE)


def _plain(text: str) -> str:
    """Full-width letters and brackets as ASCII (NFKC), LaTeX text wrappers and bold removed."""
    text = unicodedata.normalize("NFKC", text.replace("<|im_end|>", ""))
    for _ in range(3):  # nested wrappers: \textbf{\text{B}}
        text = _WRAPPERS_RE.sub(r"\1", text)
    return text.replace("**", "").replace("__", "")


def _letter_of(statement: str) -> str | None:
    """The letter a short statement consists of (``B``, ``(b)``, ``[D]``, ``b.``), or that
    opens it in upper case (``B) 14``); None otherwise."""
    m = _ALONE_RE.match(statement)
    if m:
        return m.group(1).upper()
    m = _UPPER_LEAD_RE.match(statement)
    return m.group(1) if m else None


def stated_letters(text: str) -> list[str]:
    """Every letter ``text`` states as its answer, in order: boxes, then after answer phrases,
    or the whole text when it is a letter."""
    text = _plain(text)
    letters = [letter for box in _BOX_RE.findall(text) if (letter := _letter_of(box))]
    for m in _PHRASE_RE.finditer(text):
        letter = _letter_of(text[m.end():m.end() + 80])
        if letter:
            letters.append(letter)
    if not letters:
        letter = _letter_of(text[:200])
        if letter:
            letters.append(letter)
    return letters


def choice_letter(text: str) -> str | None:
    """The one letter ``text`` states as its answer; None when it states none or two different ones."""
    letters = set(stated_letters(text))
    return letters.pop() if len(letters) == 1 else None
