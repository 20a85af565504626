"""What each test-time method runs: one :class:`Cell` per results row it will write.

A cell is a prompt statement (what the question is told about its budget), a
budget-forcing cap and the bound Control checks. Methods differ only there
(PAPER.md section 3):

| kind | statement in the prompt | BF cap | bound (within budget) |
|---|---|---|---|
| none | - | max thinking | - |
| bf | - | budget | budget |
| tcc / tcc_bf | "Think for up to B tokens." | max thinking / B | B tokens |
| scc / scc_bf | "Think for up to S steps." | max thinking / S x step | S x step_tokens tokens |
| ccc | the class's prompt ("Think briefly.") | max thinking | the class's budget |
| rs | - | (rejection sampling, s1x.evaluate.methods.sampling) | budget |
| majority | - | max thinking (k samples, vote) | - |
"""

from __future__ import annotations

from dataclasses import dataclass

from s1x.formatting import budget_statement

KINDS = ("none", "bf", "tcc", "tcc_bf", "scc", "scc_bf", "ccc", "rs", "majority")
NEEDS_BUDGETS = ("tcc", "tcc_bf", "scc", "scc_bf", "rs")
TRACE_FORMAT_OF = {"tcc": "tokens", "tcc_bf": "tokens", "scc": "steps", "scc_bf": "steps"}


@dataclass(frozen=True)
class Cell:
    """One results row's worth of generation."""

    label: str  # its directory under the benchmark, e.g. bf-64, tcc-96, ccc-short
    budget: int | None  # as the user gave it (tokens; steps for scc)
    budget_tokens: int | None  # the bound in thinking tokens that within_budget checks
    statement: str | None  # appended to the question
    cap: int | None  # the budget-forcing cap; None: max thinking tokens
    variant: str | None = None  # ccc class name


def plan_cells(method) -> list[Cell]:
    """The cells of ``method`` (a MethodConfig), in results order. rs and majority have their own
    drivers but the same cells (one per budget; one for majority)."""
    kind = method.kind
    budgets = list(method.budgets) if method.budgets else []
    if kind in ("none", "majority") or (kind == "bf" and not budgets):
        return [Cell(method.name, None, None, None, None)]
    if kind in ("bf", "rs"):
        return [Cell(f"{method.name}-{b}", b, b, None, b if kind == "bf" else None) for b in budgets]
    if kind in ("tcc", "tcc_bf"):
        return [Cell(f"{method.name}-{b}", b, b, budget_statement("tokens", b), b if kind == "tcc_bf" else None)
                for b in budgets]
    if kind in ("scc", "scc_bf"):
        step = method.step_tokens
        return [Cell(f"{method.name}-{s}", s, s * step, budget_statement("steps", s),
                     s * step if kind == "scc_bf" else None) for s in budgets]
    if kind == "ccc":
        return [Cell(f"{method.name}-{c.name}", c.budget, c.budget, c.text, None, c.name) for c in method.classes]
    raise ValueError(f"method.kind={kind!r}: must be one of {KINDS}")
