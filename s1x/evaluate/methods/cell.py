"""What each test-time method runs: one :class:`Cell` per results row it will write.

A cell is a prompt statement (what the question is told about its budget), a
budget-forcing cap and the bound Control checks. The built-in methods differ only there
(PAPER.md section 3); each kind's cells are its :class:`~s1x.evaluate.methods.kinds.MethodKind`'s:

| kind | statement in the prompt | BF cap | bound (within budget) |
|---|---|---|---|
| none | - | max thinking | - |
| bf | - | budget | budget |
| tcc / tcc_bf | "Think for up to B tokens." | max thinking / B | B tokens |
| scc / scc_bf | "Think for up to S steps." | max thinking / S x step | S x step_tokens tokens |
| ccc | the class's prompt ("Think briefly.") | max thinking | the class's budget |
| rs | - | (rejection sampling, s1x.evaluate.methods.sampled) | budget |
| majority | - | max thinking (k samples, vote) | - |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """One results row's worth of generation."""

    label: str  # its directory under the benchmark, e.g. bf-64, tcc-96, ccc-short
    budget: int | None  # as the user gave it (tokens; steps for scc)
    budget_tokens: int | None  # the bound in thinking tokens that within_budget checks
    statement: str | None  # appended to the question
    cap: int | None  # the budget-forcing cap; None: max thinking tokens
    variant: str | None = None  # ccc class name
