"""Sample records and results rows: grading what follows thinking, one ``samples.jsonl``
record per question and one ``results.json`` row per cell (the contracts outside tools read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from s1x.evaluate.controllers.forcing import KIND_ANSWER, KIND_DELIM, ForcedSample
from s1x.evaluate.methods.cell import Cell
from s1x.grading import Grade, grade_many
from s1x.grading.judge import judge_grade_many
from s1x.records import BenchmarkQuestion

GRADE_TIMEOUT_S = 5.0
JUDGE = "judge"  # the grader name that asks an LLM (s1x.grading.judge) instead of a rule


@dataclass(frozen=True)
class Grading:
    """How one benchmark's answers are read and compared (``benchmark.<name>``'s grading keys)."""

    extraction: str = "s1x"  # s1x | authors (s1x.grading.authors)
    unparsed_choice: str | None = None  # the letter a choice answer without one counts as (authors: A)
    judge: Callable | None = None  # complete(prompts, temperature, seed) for grader=judge
    judge_retries: int = 1
    judge_protocol: str = "s1x"  # s1x (Yes/No) | authors (their option-index check, s1x.grading.authors_judge)
    judge_template: str = "math"  # authors: their MATH or AIME prompt (one example differs)
    # choice graders: where the answer is not a letter, ask the judge for it with the authors'
    # GPQA template before unparsed_choice (s1x.grading.authors_choice)
    choice_llm: bool = False


def grade_texts(answers: list[str], questions: list[str], golds: list[str], kinds: list[str] | str,
                grading: Grading, letter_questions: list[str] | None = None) -> list[Grade]:
    """Grade each answer text with its grader: the rule-based ones in killable workers, ``judge``
    through the LLM judge (the authors' rule: digit strings as integers, else the LLM); with
    ``grading.choice_llm``, choice answers the authors' way, the LLM shown ``letter_questions``."""
    kinds = [kinds] * len(answers) if isinstance(kinds, str) else list(kinds)
    out: list[Grade | None] = [None] * len(answers)
    lettered = [i for i, k in enumerate(kinds) if k == "choice"] if grading.choice_llm else []
    if lettered:
        asked = letter_questions or questions
        for i, g in zip(lettered, _letters_by_llm([answers[i] for i in lettered], [asked[i] for i in lettered],
                                                  [golds[i] for i in lettered], grading)):
            out[i] = g
    ruled = [i for i, k in enumerate(kinds) if k != JUDGE and out[i] is None]
    judged = [i for i, k in enumerate(kinds) if k == JUDGE]
    if ruled:
        grades = grade_many([answers[i] for i in ruled], [golds[i] for i in ruled], [kinds[i] for i in ruled],
                            timeout_s=GRADE_TIMEOUT_S, extraction=grading.extraction,
                            unparsed_choice=grading.unparsed_choice)
        for i, g in zip(ruled, grades):
            out[i] = g
    if judged:
        if grading.judge is None:
            raise ValueError("grader=judge needs a judge model: set judge.model (and judge.engine)")
        verdicts = judge_grade_many([questions[i] for i in judged], [answers[i] for i in judged],
                                    [golds[i] for i in judged], grading.judge, retries=grading.judge_retries,
                                    extraction=grading.extraction, digits_first=True,
                                    protocol=grading.judge_protocol, template=grading.judge_template)
        for i, v in zip(judged, verdicts):
            out[i] = Grade(v.correct, v.extracted)
    return out  # type: ignore[return-value]


def _letters_by_llm(answers: list[str], questions: list[str], golds: list[str], grading: Grading) -> list[Grade]:
    """Choice answers read the authors' way with the judge LLM (s1x.grading.authors_choice)."""
    from s1x.grading.authors_choice import letters_by_llm
    from s1x.grading.graders import EXTRACTORS

    if grading.judge is None:
        raise ValueError("benchmark.<name>.choice_llm needs a judge model: set judge.model (and judge.engine)")
    extract = EXTRACTORS[grading.extraction]
    picked = letters_by_llm([extract(a) for a in answers], questions, grading.judge, grading.unparsed_choice)
    return [Grade(letter == str(g).strip("()").upper(), letter) for (letter, _), g in zip(picked, golds)]


def _segments(tokenizer, token_ids: list[int], kinds: list[str]) -> list[dict]:
    """Consecutive tokens of one kind (think, forced_ignore, delimiter, answer) as text segments."""
    segs: list[dict] = []
    for tok, kind in zip(token_ids, kinds):
        if segs and segs[-1]["kind"] == kind:
            segs[-1]["ids"].append(tok)
        else:
            segs.append({"kind": kind, "ids": [tok]})
    return [{"kind": s["kind"], "tokens": len(s["ids"]), "text": tokenizer.decode(s["ids"])} for s in segs]


def _record(tokenizer, q: BenchmarkQuestion, prompt: str, s: ForcedSample, method, cell: Cell, g, answer: str,
            controller: str, extra: dict | None = None) -> dict:
    segments = _segments(tokenizer, s.token_ids, s.kinds)
    return {
        "id": q.id,
        "question": q.question,
        "prompt": prompt,
        "method": method.name,
        "kind": method.kind,
        "budget": cell.budget,
        "budget_tokens": cell.budget_tokens,
        "num_ignore": method.num_ignore,
        "ignore_str": method.ignore_str,
        "controller": controller,
        "segments": segments,
        "rounds": s.rounds,
        "response": tokenizer.decode(s.token_ids),
        "stop_reason": s.stop_reason,
        "thinking_tokens": s.thinking_tokens,
        "answer_tokens": s.answer_tokens,
        "forced_end": s.forced_end,
        "ignores_used": s.ignores_used,
        "within_budget": None if cell.budget_tokens is None else s.thinking_tokens <= cell.budget_tokens,
        "answer_text": answer,
        "extracted": g.extracted,
        "gold": q.gold,
        "grader": q.grader,
        "correct": g.correct,
        "grade_timed_out": g.timed_out,
        "unparsed": g.unparsed,  # the answer states no box, marker, number (or letter): graded wrong
        "meta": q.meta,
        **(extra or {}),
    }


def grade_samples(tokenizer, questions: list[BenchmarkQuestion], prompts_text: list[str], samples: list[ForcedSample],
                  method, cell: Cell, controller: str, extras: list[dict] | None = None, grading: Grading = Grading(),
                  answers: list[str] | None = None) -> list[dict]:
    """Grade what follows thinking in each sample (or the given ``answers`` texts) and build the
    sample records."""
    kinds_answer = (KIND_DELIM, KIND_ANSWER)
    # Grade only what follows thinking, so an "Answer:" written while thinking never counts.
    if answers is None:
        answers = [tokenizer.decode([t for t, k in zip(s.token_ids, s.kinds) if k in kinds_answer]) for s in samples]
    from s1x.grading.authors_choice import api_question

    letter_questions = [api_question(q.meta["stem"], q.meta["choices"]) if "choices" in q.meta else q.question
                        for q in questions] if grading.choice_llm else None
    grades = grade_texts(answers, [q.question for q in questions], [q.gold for q in questions],
                         [q.grader for q in questions], grading, letter_questions)
    return [_record(tokenizer, q, p, s, method, cell, g, a, controller, (extras[i] if extras else None))
            for i, (q, p, s, g, a) in enumerate(zip(questions, prompts_text, samples, grades, answers))]


def summarize(samples: list[dict], benchmark: str, method, cell: Cell, samples_path: str) -> dict:
    """One results row (the ``results.json`` contract) from the samples of one cell."""
    n = len(samples)
    thinking = [s["thinking_tokens"] for s in samples]
    row = {
        "benchmark": benchmark,
        "method": method.name,
        "budget": cell.budget,
        "n": n,
        "accuracy": sum(s["correct"] for s in samples) / n,
        "mean_thinking_tokens": sum(thinking) / n,
        "max_thinking_tokens": max(thinking),
        "within_budget_rate": None if cell.budget_tokens is None else sum(s["within_budget"] for s in samples) / n,
        "mean_answer_tokens": sum(s["answer_tokens"] for s in samples) / n,
        "forced_end_rate": sum(s["forced_end"] for s in samples) / n,
        "no_answer_rate": sum(s["stop_reason"] == "length" for s in samples) / n,
        # Answers that state nothing the grader can read (no box, marker or number; no letter).
        "unparsed_rate": sum(bool(s.get("unparsed")) for s in samples) / n,
        "samples": samples_path,
        "kind": method.kind,
        "budget_tokens": cell.budget_tokens,
        "mean_ignores_used": sum(s["ignores_used"] for s in samples) / n,
    }
    if cell.variant is not None:
        row["variant"] = cell.variant
    return row


def cross_grade(samples: list[dict], extra_graders: list[str], grading: Grading = Grading()) -> list[dict]:
    """Grade every sample again with each of ``extra_graders`` (``judge`` included); record all
    verdicts under ``grades`` and return the samples on which the graders disagree (the
    disagreement report)."""
    if not extra_graders:
        return []
    answers = [s["answer_text"] for s in samples]
    verdicts = {k: grade_texts(answers, [s.get("question", "") for s in samples], [s["gold"] for s in samples], k, grading)
                for k in extra_graders}
    report = []
    for i, s in enumerate(samples):
        s["grades"] = {s["grader"]: s["correct"], **{k: v[i].correct for k, v in verdicts.items()}}
        if len(set(s["grades"].values())) > 1:
            report.append({"id": s["id"], "gold": s["gold"], "extracted": s["extracted"], "grades": s["grades"]})
    return report
