"""The authors' LLM answer check (``judge.protocol=authors``): their MATH500 and AIME grading
(``lm_eval/tasks/{openai_math,aime}/utils.py`` ``process_results`` in simplescaling/s1).

For each sample of a question, in order: the extracted answer and the gold are compared as
integers when both are digit strings (no LLM); otherwise the LLM is shown an option list,
``[gold] + the earlier (already mapped) answers of the question`` and the answer, with
their option-index prompt (simple-evals' extraction template, with the AIME variant of one
example), at temperature 0.5 and up to 1,024 tokens. A reply that is exactly a digit string
naming an option (1-based) replaces the answer by that option; ``-1``, an index out of range
or any other reply leaves the answer as it is. The sample is correct when the (mapped)
answer equals the gold string. Their option order after the gold is a Python ``set``'s
(it varies with the interpreter's hash seed); s1x keeps the first-seen order.
"""

from __future__ import annotations

from typing import Callable, Sequence

TEMPERATURE = 0.5  # their ChatCompletionSampler's
MAX_TOKENS = 1024

# (options, attempt, index, note) of the template's examples; "{twelve}" is the one example
# where the AIME and MATH templates differ (the options of a "12th" attempt).
_EXAMPLES = [
    ("['2x+4', '2x', '4x']", "The answer is 3+2x.", "-1", "(the student's answer is not among the options)"),
    ("['72,000']", "72000 \\text{ cents}.", "1",
     "(always give benefit of the doubt to units and ignore formatting which makes the 1st option match)"),
    ("['2/(-3)', '2/3']", "-1 * 2/3", "1", "(the 1st option matches after trivial simplifications which are fine)"),
    ("['x=5']", "5", "1", None),
    ("['\\dfrac{33}{100}']", "0.33", "1", None),
    ("['75^\\circ']", "...various calculations and explanations...hence the answer is $\\boxed{x in 75}$.", "1", None),
    ("['(1,-3)', '(1,-1)', '(1,0)', '(1,-2)']", "-2, 1", "4",
     "(ignore whitespace and other formatting which makes the 4th option match)"),
    ("['-2,1']", "1, -2", "1", "(likely a problem where multiple solutions are possible thus ignore order)"),
    ("{twelve}", "...$\\boxed{12^{\\mathrm{th}}}$.", "{twelve_index}", None),
    ("['2516_8']", "2516", "1", "(give benefit of the doubt for different bases)"),
    ("['11\\sqrt2']", "11\\sqrt{2}", "1", None),
    ("['11,\\! 111,\\! 111,\\! 100']", "11111111100", "1", None),
    ("['\\text{Navin}']", "...it is navin.", "1", None),
]
TWELVE = {"math": ("['12']", "1"), "aime": ("['11', '100', '50', '-5', '12', '10']", "5")}
TEMPLATES = tuple(TWELVE)


def _template(variant: str) -> str:
    twelve, twelve_index = TWELVE[variant]
    blocks = []
    for options, attempt, index, note in _EXAMPLES:
        options = twelve if options == "{twelve}" else options
        index = twelve_index if index == "{twelve_index}" else index
        blocks.append(f"    Options: {options}\n    Attempt: {attempt}\n\n{index}" + (f"\n{note}" if note else ""))
    return ("Look at the following attempt by a student and extract the student's answer. If it is equivalent "
            "(ignoring trivial simplifications) to any of the provided options, return the index of that option "
            "starting from 1. Else, return -1.\n\nExamples:\n\n" + "\n\n".join(blocks) +
            "\n\n---\n\nYOUR TASK\n\n\nRespond with only the index of the matching option starting from 1 or -1 if "
            "there is absolutely no reasonable match. Do not include a rationale.\n\n"
            "    Options: %(options)s\n    Attempt: %(attempt)s")


_TEMPLATE_TEXT = {v: _template(v) for v in TEMPLATES}


def options_text(options: Sequence[str]) -> str:
    """Their option list as written into the prompt: ``['a', 'b']`` with no escaping."""
    return "[" + ", ".join("'" + str(o) + "'" for o in options) + "]"


def authors_judge_prompt(options: Sequence[str], attempt: str, template: str = "math") -> str:
    """Their extraction prompt for one answer (``template``: ``math`` or ``aime``)."""
    return _TEMPLATE_TEXT[template] % {"options": options_text(options), "attempt": attempt}


def pick_option(reply: str, options: Sequence[str], answer: str) -> tuple[str, bool]:
    """Their reading of a reply: (the answer after it, whether the reply was an index or -1)."""
    if reply == "-1":
        return answer, True
    if reply.isdigit() and reply.isascii():
        k = int(reply) - 1
        return (options[k], True) if 0 <= k < len(options) else (answer, False)
    return answer, False


def authors_gold(gold) -> str:
    """Their gold string: a digit string as an integer (``023`` -> ``23``)."""
    return str(int(gold)) if isinstance(gold, str) and gold.isdigit() and gold.isascii() else str(gold)


def authors_check_many(questions: Sequence[str], answers: Sequence[str], golds: Sequence[str],
                       complete: Callable[[Sequence[str], float, int], list[str]], seed: int = 0,
                       template: str = "math") -> list[tuple[bool, str, bool, str]]:
    """(correct, mapped answer, decided, reply) of every extracted answer. Samples of the same
    question (same question text and gold) are taken in order, the earlier ones' mapped answers
    becoming options; the j-th samples of all questions are asked in one batch."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (q, g) in enumerate(zip(questions, golds)):
        groups.setdefault((q, str(g)), []).append(i)
    mapped, decided, replies = list(answers), [True] * len(answers), [""] * len(answers)
    earlier: dict[tuple[str, str], list[str]] = {key: [] for key in groups}
    for j in range(max((len(v) for v in groups.values()), default=0)):
        asks = []
        for key, idx in groups.items():
            if j >= len(idx):
                continue
            i, gt, a = idx[j], authors_gold(golds[idx[j]]), answers[idx[j]]
            if a.isdigit() and a.isascii() and gt.isdigit():
                mapped[i], replies[i] = str(int(a)), "(digits compared, no LLM asked)"
            else:
                asks.append((i, [gt] + [o for o in dict.fromkeys(earlier[key]) if o != gt]))
        out = complete([authors_judge_prompt(opts, answers[i], template) for i, opts in asks], TEMPERATURE,
                       seed + j) if asks else []
        for (i, opts), reply in zip(asks, out):
            replies[i] = reply
            mapped[i], decided[i] = pick_option(reply, opts, answers[i])
        for key, idx in groups.items():
            if j < len(idx):
                earlier[key].append(mapped[idx[j]])
    return [(mapped[i] == authors_gold(golds[i]), mapped[i], decided[i], replies[i]) for i in range(len(answers))]
