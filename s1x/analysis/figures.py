"""Paper figures from collected runs, as PNG and PDF.

Figure 1 / 4a: accuracy against mean thinking tokens per benchmark, one line
per (selection, method) run, one point per budget.
"""

from __future__ import annotations

from pathlib import Path

from s1x.analysis.collect import Collection


def figure1_points(col: Collection, method: str = "bf") -> dict[str, dict[str, list[tuple[float, float]]]]:
    """{benchmark: {run label: [(mean thinking tokens, accuracy %), ...]}} sorted by compute."""
    out: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for run in col.runs:
        label = f"{run.selection or run.results.get('model_path')} ({method})"
        for r in run.rows(method=method):
            out.setdefault(r["benchmark"], {}).setdefault(label, []).append(
                (float(r["mean_thinking_tokens"]), 100 * float(r["accuracy"])))
    for lines in out.values():
        for pts in lines.values():
            pts.sort()
    return out


def figure1(col: Collection, out_dir: Path, method: str = "bf"):
    """Draw Figure 1 (one panel per benchmark); write PNG and PDF; return (figure, points)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = figure1_points(col, method)
    if not points:
        raise ValueError(f"no {method} rows in the collected runs: nothing to plot")
    benchmarks = sorted(points)
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(4.5 * len(benchmarks), 3.6), squeeze=False)
    for ax, bench in zip(axes[0], benchmarks):
        for label, pts in sorted(points[bench].items()):
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=label)
        ax.set_title(bench)
        ax.set_xlabel("average thinking tokens")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"figure1.{ext}", dpi=150)
    return fig, points
