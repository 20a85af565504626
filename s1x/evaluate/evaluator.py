"""The evaluate stage: run a test-time method on one benchmark, grade, and summarize.

One call covers every cell of the method (:mod:`s1x.evaluate.methods.plan`: a budget, a
ccc class, an ignore count, a k of maj@k). Each cell writes its own
``samples.jsonl`` (one record per question, with the exact token accounting and
the generation rounds) and yields one results row. Generation goes through
budget forcing with a controller: ``one_pass`` (HF logits processor), s1x's
exact-budget ``rounds`` (any engine), or ``authors`` (the authors' protocol token
for token, :mod:`s1x.evaluate.authors_eval`).
"""

from __future__ import annotations

from pathlib import Path

from s1x.evaluate.generation import (answers_at_each_ignore, choose_controller, generate_forced, question_prompts,
                                     thinking_room)
from s1x.evaluate.methods.budget_forcing import ForcingTokens
from s1x.evaluate.methods.plan import Cell, plan_cells
from s1x.evaluate.samples import Grading, cross_grade, grade_samples, summarize
from s1x.evaluate.sampling import majority_rows, run_rejection_sampling
from s1x.formatting import THINK_END
from s1x.records import BenchmarkQuestion, write_jsonl


def evaluate_benchmark(engine, tokenizer, questions: list[BenchmarkQuestion], benchmark: str, method, seed: int,
                       out_dir: Path, extra_graders: list[str] = (), grading: Grading = Grading()) -> list[dict]:
    """Evaluate ``method`` on one benchmark, one results row per cell; write samples under ``out_dir``.

    With ``extra_graders``, every sample is also graded by those graders and each
    cell's dir gets ``disagreements.jsonl`` (questions the graders judge differently).
    ``grading`` says how answers are extracted and compared (and holds the LLM judge).
    Returns results rows whose ``samples`` path is relative to ``out_dir``.
    """
    tokens = ForcingTokens.from_tokenizer(tokenizer, THINK_END, method.answer_prefix, method.ignore_str)
    controller = choose_controller(method, engine)
    cells = plan_cells(method)
    by_label: dict[str, list[dict]] = {}
    rows_extra: dict[str, dict] = {}
    if controller == "authors":
        from s1x.evaluate.authors_eval import authors_cells

        by_label, rows_extra = authors_cells(engine, tokenizer, questions, method, cells, seed, grading)
        if method.kind == "majority":
            return _majority(by_label[cells[0].label], questions, method, cells[0], benchmark, out_dir, seed)
    elif method.kind == "rs":
        prompts_text, prompts = question_prompts(tokenizer, questions, None)
        room = thinking_room(method, engine, prompts, tokens)
        by_label = run_rejection_sampling(engine, tokenizer, questions, prompts_text, prompts, tokens, method, cells,
                                          room, controller, seed, grading)
        for c in cells:
            picks = by_label[c.label]
            rows_extra[c.label] = {"mean_tries": sum(p["tries"] for p in picks) / len(picks),
                                   "fallback_rate": sum(p["rs_fallback"] for p in picks) / len(picks)}
    elif method.kind == "majority":
        prompts_text, prompts = question_prompts(tokenizer, questions, None)
        room = thinking_room(method, engine, prompts, tokens)
        reps = [i for i in range(len(questions)) for _ in range(method.samples)]
        outs = generate_forced(engine, [prompts[i] for i in reps], tokens, room, method, controller, seed=seed,
                               num_ignore=0, desc=f"majority x{method.samples}")
        records = grade_samples(tokenizer, [questions[i] for i in reps], [prompts_text[i] for i in reps], outs, method,
                                cells[0], controller, [{"sample_index": j % method.samples} for j in range(len(reps))],
                                grading)
        return _majority(records, questions, method, cells[0], benchmark, out_dir, seed)
    else:
        for c in cells:
            prompts_text, prompts = question_prompts(tokenizer, questions, c.statement)
            cap = c.cap if c.cap is not None else thinking_room(method, engine, prompts, tokens)
            outs = generate_forced(engine, prompts, tokens, cap, method, controller, seed=seed, desc=f"generate {c.label}")
            if method.answer_each_ignore:
                for i, shared in enumerate(answers_at_each_ignore(engine, prompts, outs, tokens, method.num_ignore,
                                                                  method.max_answer_tokens, seed)):
                    label = f"{c.label}-x{i}"
                    cell_i = Cell(label, c.budget, c.budget_tokens, c.statement, c.cap, c.variant)
                    by_label[label] = grade_samples(tokenizer, questions, prompts_text, shared, method, cell_i, controller,
                                                    [{"num_ignore": i}] * len(questions), grading)
                    rows_extra[label] = {"num_ignore": i, "variant": f"{method.ignore_str or 'empty'} x{i}"}
            else:
                by_label[c.label] = grade_samples(tokenizer, questions, prompts_text, outs, method, c, controller,
                                                  grading=grading)
                if method.kind == "bf":
                    rows_extra[c.label] = {"num_ignore": method.num_ignore}
    rows = []
    cells_by_label = {c.label: c for c in cells}
    for label, samples in by_label.items():
        cell = cells_by_label.get(label) or cells_by_label[label.rsplit("-x", 1)[0]]
        rel = Path(label) / "samples.jsonl"
        (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        disagreements = cross_grade(samples, list(extra_graders), grading)
        write_jsonl(out_dir / rel, samples)
        row = {**summarize(samples, benchmark, method, cell, str(rel)), **rows_extra.get(label, {}), "controller": controller}
        if extra_graders:
            write_jsonl(out_dir / rel.parent / "disagreements.jsonl", disagreements)
            row["grader_disagreements"] = len(disagreements)
        rows.append(row)
    return rows


def _majority(records: list[dict], questions, method, cell: Cell, benchmark: str, out_dir: Path, seed: int) -> list[dict]:
    """Write majority vote's K samples per question and return its maj@k rows."""
    rel = Path(method.name) / "samples.jsonl"
    (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / rel, records)
    return majority_rows(records, questions, method, cell, benchmark, out_dir, seed)
