"""The evaluate stage: run a test-time method on one benchmark, grade, and summarize.

One call covers every budget of the method (``method=bf``) or the single
unconstrained run (``method=none``). Each budget writes its own
``samples.jsonl`` (one record per question, with the exact token accounting)
and yields one results row.
"""

from __future__ import annotations

from pathlib import Path


from s1x.formatting import THINK_END, generation_prompt
from s1x.grading import grade_many
from s1x.methods.budget_forcing import KIND_ANSWER, KIND_DELIM, BudgetForcingProcessor, ForcingTokens
from s1x.records import BenchmarkQuestion, write_jsonl

STAGE_VERSION = 2  # 2: math grader, graded in worker processes
GRADE_TIMEOUT_S = 5.0


def _segments(tokenizer, token_ids: list[int], kinds: list[str]) -> list[dict]:
    """Consecutive tokens of one kind (think, forced_ignore, delimiter, answer) as text segments."""
    segs: list[dict] = []
    for tok, kind in zip(token_ids, kinds):
        if segs and segs[-1]["kind"] == kind:
            segs[-1]["ids"].append(tok)
        else:
            segs.append({"kind": kind, "ids": [tok]})
    return [{"kind": s["kind"], "tokens": len(s["ids"]), "text": tokenizer.decode(s["ids"])} for s in segs]


def run_budget(
    engine,
    tokenizer,
    questions: list[BenchmarkQuestion],
    prompts_text: list[str],
    prompts: list[list[int]],
    tokens: ForcingTokens,
    method,
    budget: int | None,
    seed: int,
) -> list[dict]:
    """Generate and grade every question under one thinking budget; return the sample records.

    ``prompts_text``/``prompts`` (text and ids per question) and the forcing
    ``tokens`` do not depend on the budget: the caller builds them once.
    """
    cap = budget if budget is not None else method.max_thinking_tokens
    # Room for: thinking, a newline + delimiter + answer prefix, the answer, end of turn.
    max_new = cap + 1 + len(tokens.end_sequence) + method.max_answer_tokens + 1

    def factory(batch_size: int) -> BudgetForcingProcessor:
        return BudgetForcingProcessor(
            batch_size, tokens, budget,
            min_thinking=method.min_thinking_tokens,
            num_ignore=method.num_ignore,
            max_answer_tokens=method.max_answer_tokens,
        )

    label = f"{method.name}-{budget}" if budget is not None else method.name
    completions = engine.generate(prompts, max_new, factory, temperature=method.temperature, seed=seed, desc=f"generate {label}")
    all_segments = [_segments(tokenizer, c.token_ids, c.processor.rows[c.row].kinds) for c in completions]
    # Grade only what follows thinking, so an "Answer:" written while thinking never counts.
    answers = ["".join(s["text"] for s in segs if s["kind"] in (KIND_DELIM, KIND_ANSWER)) for segs in all_segments]
    # math/integer answers grade in killable worker processes (grade_many decides).
    grades = grade_many(answers, [q.gold for q in questions], [q.grader for q in questions], timeout_s=GRADE_TIMEOUT_S)
    samples = []
    for q, prompt, c, segments, g, answer_text in zip(questions, prompts_text, completions, all_segments, grades, answers):
        row = c.processor.rows[c.row]
        samples.append(
            {
                "id": q.id,
                "question": q.question,
                "prompt": prompt,
                "method": method.name,
                "budget": budget,
                "num_ignore": method.num_ignore,
                "ignore_str": method.ignore_str,
                "segments": segments,
                "response": tokenizer.decode(c.token_ids),
                "stop_reason": c.stop_reason,
                "thinking_tokens": row.thinking_tokens,
                "answer_tokens": row.answer_tokens,
                "forced_end": row.forced_end,
                "ignores_used": row.ignores_used,
                "within_budget": None if budget is None else row.thinking_tokens <= budget,
                "answer_text": answer_text,
                "extracted": g.extracted,
                "gold": q.gold,
                "grader": q.grader,
                "correct": g.correct,
                "grade_timed_out": g.timed_out,
                "meta": q.meta,
            }
        )
    return samples


def summarize(samples: list[dict], benchmark: str, method: str, budget: int | None, samples_path: str) -> dict:
    """One results row (the ``results.json`` contract) from the samples of one budget."""
    n = len(samples)
    thinking = [s["thinking_tokens"] for s in samples]
    return {
        "benchmark": benchmark,
        "method": method,
        "budget": budget,
        "n": n,
        "accuracy": sum(s["correct"] for s in samples) / n,
        "mean_thinking_tokens": sum(thinking) / n,
        "max_thinking_tokens": max(thinking),
        "within_budget_rate": None if budget is None else sum(s["within_budget"] for s in samples) / n,
        "mean_answer_tokens": sum(s["answer_tokens"] for s in samples) / n,
        "forced_end_rate": sum(s["forced_end"] for s in samples) / n,
        "no_answer_rate": sum(s["stop_reason"] == "length" for s in samples) / n,
        "samples": samples_path,
    }


def cross_grade(samples: list[dict], extra_graders: list[str]) -> list[dict]:
    """Grade every sample again with each of ``extra_graders``; record all verdicts under
    ``grades`` and return the samples on which the graders disagree (the disagreement report)."""
    if not extra_graders:
        return []
    answers = [s["answer_text"] for s in samples]
    verdicts = {k: grade_many(answers, [s["gold"] for s in samples], k, timeout_s=GRADE_TIMEOUT_S)
                for k in extra_graders}
    report = []
    for i, s in enumerate(samples):
        s["grades"] = {s["grader"]: s["correct"], **{k: v[i].correct for k, v in verdicts.items()}}
        if len(set(s["grades"].values())) > 1:
            report.append({"id": s["id"], "gold": s["gold"], "extracted": s["extracted"], "grades": s["grades"]})
    return report


def evaluate_benchmark(engine, tokenizer, questions: list[BenchmarkQuestion], benchmark: str, method, seed: int,
                       out_dir: Path, extra_graders: list[str] = ()) -> list[dict]:
    """Evaluate ``method`` on one benchmark at each of its budgets; write samples under ``out_dir``.

    With ``extra_graders``, every sample is also graded by those graders and each
    budget's dir gets ``disagreements.jsonl`` (questions the graders judge differently).
    Returns results rows whose ``samples`` path is relative to ``out_dir``.
    """
    tokens = ForcingTokens.from_tokenizer(tokenizer, THINK_END, method.answer_prefix, method.ignore_str)
    prompts_text = [generation_prompt(tokenizer, q.question) for q in questions]
    prompts = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in prompts_text]
    rows = []
    for budget in list(method.budgets) if method.budgets else [None]:
        samples = run_budget(engine, tokenizer, questions, prompts_text, prompts, tokens, method, budget, seed)
        rel = Path(f"{method.name}-{budget}" if budget is not None else method.name) / "samples.jsonl"
        (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        disagreements = cross_grade(samples, list(extra_graders))
        write_jsonl(out_dir / rel, samples)
        row = summarize(samples, benchmark, method.name, budget, str(rel))
        if extra_graders:
            write_jsonl(out_dir / rel.parent / "disagreements.jsonl", disagreements)
            row["grader_disagreements"] = len(disagreements)
        rows.append(row)
    return rows
