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


def figure1(col: Collection, out_dir: Path, method: str = "bf", stem: str = "figure1"):
    """Draw Figure 1 (one panel per benchmark); write ``<stem>.png`` and ``.pdf``; return (figure, points).
    Figure 4a is the same plot of ``bf_extend`` (accuracy against thinking as ignores grow)."""
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
        fig.savefig(out_dir / f"{stem}.{ext}", dpi=150)
    return fig, points


def figure4b_points(col: Collection, benchmark: str, sequential: str = "bf",
                    parallel: str = "majority") -> dict[str, list[tuple[float, float]]]:
    """{method: [(thinking tokens per question, accuracy %), ...]} for the two methods on one benchmark.

    Each row's ``mean_thinking_tokens`` is the compute axis, so a parallel method
    must report the thinking of all its samples per question (k samples of t
    tokens: k * t), which puts both scaling modes on the same axis.
    """
    out: dict[str, list[tuple[float, float]]] = {}
    for run in col.runs:
        for method in (sequential, parallel):
            for r in run.rows(benchmark, method):
                out.setdefault(method, []).append((float(r["mean_thinking_tokens"]), 100 * float(r["accuracy"])))
    for pts in out.values():
        pts.sort()
    return out


def figure4b(col: Collection, out_dir: Path, benchmark: str, sequential: str = "bf", parallel: str = "majority"):
    """Draw Figure 4b (sequential vs parallel scaling on one compute axis); write PNG and PDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = figure4b_points(col, benchmark, sequential, parallel)
    if not points:
        raise ValueError(f"no {sequential} or {parallel} rows on {benchmark}: nothing to plot")
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    for method, pts in sorted(points.items()):
        kind = "sequential" if method == sequential else "parallel"
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=f"{method} ({kind})")
    ax.set_xscale("log")
    ax.set_title(benchmark)
    ax.set_xlabel("thinking tokens per question (log)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"figure4b_{benchmark}.{ext}", dpi=150)
    return fig, points
