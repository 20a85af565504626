"""The evaluate stage: run a test-time method on one benchmark, grade, and summarize.

One call covers every cell of the method (its kind's cells,
:mod:`s1x.evaluate.methods.kinds`: a budget, a ccc class, an ignore count, a k of maj@k) and
hands them to the kind's driver; the evaluator itself switches on no method name. Each cell writes its own
``samples.jsonl`` (one record per question, with the exact token accounting and
the generation rounds) and yields one results row. Generation goes through
budget forcing with a controller: ``one_pass`` (HF logits processor), s1x's
exact-budget ``rounds`` (any engine), or ``authors`` (the authors' protocol token
for token, :mod:`s1x.evaluate.authors_eval`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from s1x.records import BenchmarkQuestion, write_jsonl
from s1x.errors import ConfigError
from s1x.evaluate.controllers.forcing import ForcingTokens
from s1x.evaluate.generation import choose_controller, fit_context
from s1x.evaluate.methods.kinds import MethodRun, method_kind
from s1x.evaluate.sample_records import Grading
from s1x.formatting import THINK_END

log = logging.getLogger("s1x")


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
    kind = method_kind(method.kind)
    tokens = ForcingTokens.from_tokenizer(tokenizer, THINK_END, method.answer_prefix, method.ignore_str)
    controller = choose_controller(method, engine)
    run = MethodRun(engine, tokenizer, questions, benchmark, method, kind.cells(method), tokens, controller, seed,
                    out_dir, list(extra_graders), grading)
    if controller == "authors":
        from s1x.evaluate.authors_eval import authors_cells

        by_label, rows_extra = authors_cells(run, kind)
        return kind.authors_rows(run, by_label, rows_extra)
    run.questions, run.common = _fitting(engine, tokenizer, questions, benchmark, method, run.cells, tokens,
                                         on_context_overflow, out_dir)
    return kind.run(run)
