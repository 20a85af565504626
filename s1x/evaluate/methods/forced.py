"""The budget-forcing kinds: ``none``, ``bf``, ``tcc``/``tcc_bf``, ``scc``/``scc_bf`` and ``ccc``.

Each is budget forcing with a cap and, for the conditional-control kinds, a statement in the
prompt; they share one driver (cell by cell, each written as soon as it is graded, so a resumed
evaluation starts after the last one) and differ in their cells, their checks and what the
authors' commands append (``eval/commands.sh`` in ``simplescaling/s1``).
"""

from __future__ import annotations

import logging

from s1x.errors import require
from s1x.evaluate.controllers.authors import SCC_BF_THINK_START, SCC_BF_UNTIL, SUFFIX_CLASS, SUFFIX_STEPS, SUFFIX_TOKENS
from s1x.evaluate.generation import answers_at_each_ignore, generate_forced, question_prompts, thinking_room
from s1x.evaluate.methods.kinds import MethodKind, MethodRun, register_method_kind, with_label
from s1x.evaluate.methods.cell import Cell
from s1x.evaluate.sample_records import grade_samples
from s1x.formatting import budget_statement

log = logging.getLogger("s1x")


def run_forced_cells(run: MethodRun, row_extra: dict) -> list[dict]:
    """Budget forcing with each cell's statement and cap; ``answer_each_ignore`` answers after
    every ignore count from one generation (prefix sharing)."""
    method, rows = run.method, []
    for c in run.cells:
        labels = [f"{c.label}-x{i}" for i in range(method.num_ignore + 1)] if method.answer_each_ignore else [c.label]
        done = [run.cell_done(label) for label in labels]
        if all(done):
            log.info("[evaluate] %s: %s finished by an interrupted run; not generated again", run.benchmark, c.label)
            rows.extend(done)
            continue
        prompts_text, prompts = question_prompts(run.tokenizer, run.questions, c.statement)
        cap = c.cap if c.cap is not None else thinking_room(method, run.engine, prompts, run.tokens)
        outs = generate_forced(run.engine, prompts, run.tokens, cap, method, run.controller, seed=run.seed,
                               desc=f"generate {c.label}")
        if method.answer_each_ignore:
            for i, shared in enumerate(answers_at_each_ignore(run.engine, prompts, outs, run.tokens, method.num_ignore,
                                                              method.max_answer_tokens, run.seed)):
                samples = grade_samples(run.tokenizer, run.questions, prompts_text, shared, method,
                                        with_label(c, labels[i]), run.controller,
                                        [{"num_ignore": i}] * len(run.questions), run.grading)
                extra = {"num_ignore": i, "variant": f"{method.ignore_str or 'empty'} x{i}"}
                rows.append(run.finish_cell(labels[i], samples, c, extra))
        else:
            samples = grade_samples(run.tokenizer, run.questions, prompts_text, outs, method, c, run.controller,
                                    grading=run.grading)
            rows.append(run.finish_cell(c.label, samples, c, dict(row_extra)))
    return rows


class Forced(MethodKind):
    """Budget forcing at ``max_thinking_tokens`` (``none``: "s1 without budget forcing")."""

    name = "none"
    has_authors_protocol = True

    def run(self, run: MethodRun) -> list[dict]:
        return run_forced_cells(run, self.row_extra(run.method))

    def authors_unsplit(self, method) -> bool:
        return self.name == "none"  # their path without thinking gen_kwargs: one generation, no split


class BudgetForcing(Forced):
    """``bf``: one cell per budget, capped there; without budgets, one cell at max thinking."""

    name, shares_ignores = "bf", True

    def cells(self, method) -> list[Cell]:
        if not method.budgets:
            return super().cells(method)
        return [Cell(f"{method.name}-{b}", b, b, None, b) for b in method.budgets]

    def check(self, method, cfg) -> None:
        pass

    def row_extra(self, method) -> dict:
        return {"num_ignore": method.num_ignore}

    def authors_cap(self, method, cell: Cell):
        return cell.budget or method.max_thinking_tokens


class TokenConditional(Forced):
    """``tcc`` (the prompt states B tokens) and ``tcc_bf`` (also forced at B)."""

    needs_budgets, statement_unit = True, "tokens"

    def __init__(self, name: str, forced: bool):
        self.name, self.forced = name, forced

    def cells(self, method) -> list[Cell]:
        return [Cell(f"{method.name}-{b}", b, b, budget_statement("tokens", b), b if self.forced else None)
                for b in method.budgets]

    def authors_suffix(self, method, cell: Cell) -> str:
        return SUFFIX_TOKENS.format(cell.budget)

    def authors_cap(self, method, cell: Cell):
        return cell.budget if self.forced else method.max_thinking_tokens


class StepConditional(Forced):
    """``scc`` (the prompt states S steps of ``step_tokens``) and ``scc_bf`` (also forced there)."""

    needs_budgets, statement_unit = True, "steps"

    def __init__(self, name: str, forced: bool):
        self.name, self.forced = name, forced

    def cells(self, method) -> list[Cell]:
        step = method.step_tokens
        return [Cell(f"{method.name}-{s}", s, s * step, budget_statement("steps", s), s * step if self.forced else None)
                for s in method.budgets]

    def check(self, method, cfg) -> None:
        require(method.step_tokens > 0, "method.step_tokens", method.step_tokens, "must be a positive number of tokens")

    def check_authors(self, method) -> None:
        if self.forced and method.min_thinking_tokens > 0:
            require(False, "method.min_thinking_tokens", method.min_thinking_tokens,
                    "their scc_bf stop string <|im_start|>0 is two tokens; min tokens needs one-token stops")

    def authors_suffix(self, method, cell: Cell) -> str:
        return SUFFIX_STEPS.format(cell.budget)

    def authors_protocol(self, method) -> dict:
        # Their scc_bf counts steps down from <|im_start|> and stops at <|im_start|>0.
        return {"think_start": SCC_BF_THINK_START, "until_thinking": SCC_BF_UNTIL} if self.forced else {}


class ClassConditional(Forced):
    """``ccc``: one cell per prompt class ("Think briefly."), bounded by the class's budget."""

    name = "ccc"

    def cells(self, method) -> list[Cell]:
        return [Cell(f"{method.name}-{c.name}", c.budget, c.budget, c.text, None, c.name) for c in method.classes]

    def check(self, method, cfg) -> None:
        require(len(method.classes) > 0, "method.classes", [], "ccc needs its prompt classes, e.g. short and long")
        for i, c in enumerate(method.classes):
            require(bool(c.name) and bool(c.text) and c.budget > 0, f"method.classes[{i}]", c.name,
                    "each class needs a name, a prompt text and a positive budget")

    def check_authors(self, method) -> None:
        names = [c.name for c in method.classes]
        require(set(names) <= set(SUFFIX_CLASS), "method.classes", names,
                f"the authors' class prompts are {sorted(SUFFIX_CLASS)} (PROMPTSHORT/PROMPTLONG); name each class one of them")

    def authors_suffix(self, method, cell: Cell) -> str:
        return SUFFIX_CLASS[cell.variant]


for _kind in (Forced(), BudgetForcing(), TokenConditional("tcc", False), TokenConditional("tcc_bf", True),
              StepConditional("scc", False), StepConditional("scc_bf", True), ClassConditional()):
    register_method_kind(_kind)
