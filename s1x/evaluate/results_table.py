"""The printed per-benchmark, per-budget results table (also saved as ``results.md``)."""

from __future__ import annotations

HEADER = ["benchmark", "method", "budget", "n", "accuracy", "thinking (mean)", "thinking (max)", "within budget"]


def format_results_table(rows: list[dict]) -> str:
    """A Markdown table: benchmark, method, budget, n, accuracy, mean/max thinking tokens, within budget.

    Unbudgeted rows (``method=none``) show ``-`` for budget and within budget; a row's
    ``variant`` (a ccc class, an ignore count, a k of maj@k) follows the method in brackets.
    """
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for r in rows:
        within = r["within_budget_rate"]
        cells = [
            r["benchmark"],
            r["method"] + (f" ({r['variant']})" if r.get("variant") else ""),
            "-" if r["budget"] is None else str(r["budget"]),
            str(r["n"]),
            f"{100 * r['accuracy']:.1f}%",
            f"{r['mean_thinking_tokens']:.1f}",
            str(r["max_thinking_tokens"]),
            "-" if within is None else f"{100 * within:.0f}%",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
