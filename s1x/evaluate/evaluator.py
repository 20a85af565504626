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

import json
import logging
from pathlib import Path

from s1x.evaluate.generation import (answers_at_each_ignore, choose_controller, fit_context, generate_forced,
                                     question_prompts, thinking_room)
from s1x.evaluate.methods.budget_forcing import ForcingTokens
from s1x.evaluate.methods.plan import Cell, plan_cells
from s1x.evaluate.samples import Grading, cross_grade, grade_samples, summarize
from s1x.evaluate.sampling import majority_rows, plain_generations, run_rejection_sampling
from s1x.formatting import THINK_END
from s1x.records import BenchmarkQuestion, write_json, write_jsonl
from s1x.validation import ConfigError

log = logging.getLogger("s1x")


def _cell_dir_done(out_dir: Path, label: str) -> dict | None:
    """The results row of a cell a killed run already finished (its ``row.json`` is written last)."""
    done = out_dir / label / "row.json"
    return json.loads(done.read_text()) if done.exists() else None


def _finish_cell(out_dir: Path, label: str, samples: list[dict], benchmark: str, method, cell: Cell, controller: str,
                 extra: dict, extra_graders: list[str], grading: Grading) -> dict:
    """Write a cell's samples (and disagreement report) and its results row; ``row.json`` last, so a
    rerun of a killed evaluation skips exactly the cells that are complete."""
    rel = Path(label) / "samples.jsonl"
    (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
    disagreements = cross_grade(samples, list(extra_graders), grading)
    write_jsonl(out_dir / rel, samples)
    row = {**summarize(samples, benchmark, method, cell, str(rel)), **extra, "controller": controller}
    if extra_graders:
        write_jsonl(out_dir / rel.parent / "disagreements.jsonl", disagreements)
        row["grader_disagreements"] = len(disagreements)
    write_json(out_dir / rel.parent / "row.json", row)
    return row


def _fitting(engine, tokenizer, questions, benchmark, method, cells, tokens, on_overflow: str, out_dir: Path):
    """The questions that fit the context with every cell's cap and answer room; the others are
    listed in ``context_skipped.jsonl`` (or refused, ``on_overflow=fail``, before generating)."""
    keep, skipped = fit_context(engine, tokenizer, questions, method, cells, tokens)
    if skipped:
        worst = max(skipped, key=lambda r: r["tokens_needed"])
        what = (f"{len(skipped)} of {len(questions)} questions of {benchmark} need more than the model's "
                f"{worst['context']}-token context (up to {worst['tokens_needed']}: prompt + thinking cap + answer)")
        if on_overflow == "fail" or not keep:
            raise ConfigError(f"{what}; lower method.budgets / method.max_thinking_tokens / method.max_answer_tokens"
                              + (", or set engine.on_context_overflow=skip" if keep else ""))
        log.warning("s1x: %s; skipped (listed in context_skipped.jsonl)", what)
        write_jsonl(out_dir / "context_skipped.jsonl", skipped)
    return [questions[i] for i in keep], {"n_skipped_context": len(skipped)}


def evaluate_benchmark(engine, tokenizer, questions: list[BenchmarkQuestion], benchmark: str, method, seed: int,
                       out_dir: Path, extra_graders: list[str] = (), grading: Grading = Grading(),
                       on_context_overflow: str = "skip") -> list[dict]:
    """Evaluate ``method`` on one benchmark, one results row per cell; write samples under ``out_dir``.

    Under s1x's controllers, questions that cannot fit the model's context with the cell's
    thinking cap and answer room are left out and listed in ``context_skipped.jsonl``
    (``on_context_overflow=skip``; the rows count them in ``n_skipped_context``) or refused
    before any generation (``fail``); the authors' protocol keeps its own room rule (their
    ``auto`` formula, the engine's context). With ``extra_graders``, every sample is also
    graded by those graders and each cell's dir gets ``disagreements.jsonl`` (questions the
    graders judge differently). ``grading`` says how answers are extracted and compared (and
    holds the LLM judge). Budget-forcing cells already finished in ``out_dir`` (a resumed,
    killed evaluation) are not generated again. Returns results rows whose ``samples`` path
    is relative to ``out_dir``.
    """
    tokens = ForcingTokens.from_tokenizer(tokenizer, THINK_END, method.answer_prefix, method.ignore_str)
    controller = choose_controller(method, engine)
    cells = plan_cells(method)
    common: dict = {}
    if controller != "authors":
        questions, common = _fitting(engine, tokenizer, questions, benchmark, method, cells, tokens,
                                     on_context_overflow, out_dir)
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
        answers = None  # graded texts: what follows thinking, or a plain generation's whole text
        if method.split_thinking:
            outs = generate_forced(engine, [prompts[i] for i in reps], tokens, room, method, controller, seed=seed,
                                   num_ignore=0, desc=f"majority x{method.samples}")
            texts = [prompts_text[i] for i in reps]
        else:  # the base model's plain generation (Figure 4b): room for thinking and answer, no split
            texts, outs, answers = plain_generations(engine, tokenizer, [questions[i] for i in reps], method,
                                                     room + method.max_answer_tokens, seed)
        records = grade_samples(tokenizer, [questions[i] for i in reps], texts, outs, method, cells[0], controller,
                                [{"sample_index": j % method.samples} for j in range(len(reps))], grading, answers)
        return [{**r, **common} for r in _majority(records, questions, method, cells[0], benchmark, out_dir, seed)]
    else:
        return _forced_cells(engine, tokenizer, questions, benchmark, method, cells, tokens, controller, seed, out_dir,
                             extra_graders, grading, common)
    cells_by_label = {c.label: c for c in cells}
    return [_finish_cell(out_dir, label, samples, benchmark, method,
                         cells_by_label.get(label) or cells_by_label[label.rsplit("-x", 1)[0]], controller,
                         {**rows_extra.get(label, {}), **common}, extra_graders, grading)
            for label, samples in by_label.items()]


def _forced_cells(engine, tokenizer, questions, benchmark, method, cells, tokens, controller, seed, out_dir,
                  extra_graders, grading, common) -> list[dict]:
    """Budget forcing with a prompt statement per cell (none, bf, bf_extend, tcc, scc, ccc), cell by
    cell, each written as soon as it is graded (a resumed evaluation starts after the last one)."""
    rows = []
    for c in cells:
        labels = [f"{c.label}-x{i}" for i in range(method.num_ignore + 1)] if method.answer_each_ignore else [c.label]
        done = [_cell_dir_done(out_dir, label) for label in labels]
        if all(done):
            log.info("[evaluate] %s: %s finished by an interrupted run; not generated again", benchmark, c.label)
            rows.extend(done)
            continue
        prompts_text, prompts = question_prompts(tokenizer, questions, c.statement)
        cap = c.cap if c.cap is not None else thinking_room(method, engine, prompts, tokens)
        outs = generate_forced(engine, prompts, tokens, cap, method, controller, seed=seed, desc=f"generate {c.label}")
        if method.answer_each_ignore:
            for i, shared in enumerate(answers_at_each_ignore(engine, prompts, outs, tokens, method.num_ignore,
                                                              method.max_answer_tokens, seed)):
                cell_i = Cell(labels[i], c.budget, c.budget_tokens, c.statement, c.cap, c.variant)
                samples = grade_samples(tokenizer, questions, prompts_text, shared, method, cell_i, controller,
                                        [{"num_ignore": i}] * len(questions), grading)
                extra = {"num_ignore": i, "variant": f"{method.ignore_str or 'empty'} x{i}", **common}
                rows.append(_finish_cell(out_dir, labels[i], samples, benchmark, method, c, controller, extra,
                                         extra_graders, grading))
        else:
            samples = grade_samples(tokenizer, questions, prompts_text, outs, method, c, controller, grading=grading)
            extra = {"num_ignore": method.num_ignore, **common} if method.kind == "bf" else dict(common)
            rows.append(_finish_cell(out_dir, c.label, samples, benchmark, method, c, controller, extra,
                                     extra_graders, grading))
    return rows


def _majority(records: list[dict], questions, method, cell: Cell, benchmark: str, out_dir: Path, seed: int) -> list[dict]:
    """Write majority vote's K samples per question and return its maj@k rows."""
    rel = Path(method.name) / "samples.jsonl"
    (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / rel, records)
    return majority_rows(records, questions, method, cell, benchmark, out_dir, seed)
