"""The authors' GPQA letter extraction by an LLM (``benchmark.<name>.choice_llm``; their
``lm_eval/tasks/gpqa/openai/utils.py`` ``process_results`` in simplescaling/s1).

Their reading of an answer: the extracted answer itself when it is a letter (``a``-``d``
upper-cased); otherwise their LLM is shown the question in their API layout
(``{Question}\\nAnswer Choices:\\n(A) ...\\n(D) ...``) and the answer with their extraction
template, at temperature 0.5 and up to 1,024 tokens, and its reply is the letter when it is
exactly one of ``A``-``D``; otherwise the answer counts as ``A`` (``unparsed_choice``).
"""

from __future__ import annotations

from typing import Callable, Sequence

from s1x.grading.authors_judge import TEMPERATURE

LETTERS = ("A", "B", "C", "D")

# (question, attempt, reply) of their template's examples.
_EXAMPLES = [
    ("...", "Answer: **A**", "A"),
    ("A) Dinosaur B) Elephant C) Cat D) Dog", "...The answer is therefore Elephant...", "B"),
    ("...", "Answer: None of the above", "-1"),
    ("...", "...Answer: D), because...", "D"),
    ("...\n(A) 7 \n(B) 8 \n(C) 4 \n(D) 10", "4", "C"),
    ("...", "...\\\\boxed{C}...", "C"),
]
_TEMPLATE = (
    "Look at the following question and an attempt by a student and extract which choice among A, B, C, D the "
    "student picked. If the student did not pick any choice, respond with \"-1\".\n\nExamples:\n\n"
    + "\n\n".join(f"    Question: {q}\n    Attempt: {a}\n\n{r}" for q, a, r in _EXAMPLES)
    + "\n\n---\n\nYOUR TASK\n\n\nRespond only with the capitalized alphabetic letter (without quotes) or -1. "
    "Do not include a rationale.\n\n    Question: %(question)s\n    Attempt: %(attempt)s")


def api_question(stem: str, choices: Sequence[str]) -> str:
    """The question as their LLM sees it (their ``QUERY_TEMPLATE_API``)."""
    return f"{stem}\nAnswer Choices:\n" + "\n".join(f"({L}) {c}" for L, c in zip(LETTERS, choices))


def letter_prompt(question: str, attempt: str) -> str:
    """Their extraction prompt for one answer."""
    return _TEMPLATE % {"question": question, "attempt": attempt}


def letters_by_llm(answers: Sequence[str], questions: Sequence[str], complete: Callable[[Sequence[str], float, int],
                   list[str]], unparsed_choice: str | None, seed: int = 0) -> list[tuple[str, str]]:
    """(letter, reply) of every extracted answer, their way: the answer if it is a letter, else the
    LLM's reply if it is one, else ``unparsed_choice`` (their ``A``; None: no letter)."""
    out: list[tuple[str, str]] = []
    ask = []
    for i, a in enumerate(answers):
        a = a.upper() if a in ("a", "b", "c", "d") else a
        out.append((a, "(a letter, no LLM asked)") if a in LETTERS else ("", ""))
        if a not in LETTERS:
            ask.append(i)
    replies = complete([letter_prompt(questions[i], answers[i]) for i in ask], TEMPERATURE, seed) if ask else []
    for i, reply in zip(ask, replies):
        out[i] = (reply if reply in LETTERS else (unparsed_choice or ""), reply)
    return out
