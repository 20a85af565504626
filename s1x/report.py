"""The printed per-benchmark, per-budget results table (also saved as ``results.md``)."""

from __future__ import annotations


def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def format_results_table(rows: list[dict]) -> str:
    """A Markdown table: benchmark, method, budget, n, accuracy, mean thinking tokens, within budget."""
    head = ["benchmark", "method", "budget", "n", "accuracy", "thinking (mean)", "thinking (max)", "within budget"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        cells = [r["benchmark"], r["method"], _fmt(r["budget"], "d"), str(r["n"]), f"{100 * r['accuracy']:.1f}%",
                 f"{r['mean_thinking_tokens']:.1f}", str(r["max_thinking_tokens"]),
                 _fmt(None if r["within_budget_rate"] is None else 100 * r["within_budget_rate"], ".0f") +
                 ("%" if r["within_budget_rate"] is not None else "")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
