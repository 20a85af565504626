"""Paper figures from collected runs, as PNG and PDF.

Figure 1 / 4a: accuracy against mean thinking tokens per benchmark, one line
per model and method (seeds averaged, their range shaded), one point per
budget, on a log-2 compute axis. Figure 4b: sequential against parallel scaling
on one benchmark, one line per (model, method). Every series keeps its colour
and marker in every panel and figure (``styles.py``); a figure has one legend.
Rows without thinking counts are skipped and listed in ``notes``.
"""

from __future__ import annotations

from pathlib import Path

from s1x.analysis.cells import Cell, budget_order, display_name, group_cells, refuse_without_thinking_counts, who
from s1x.analysis.collect import Collection
from s1x.analysis.inputs import AnalysisInputError
from s1x.analysis.styles import figure_legend, log2_compute_axis, series_styles

# (x, mean accuracy %, lowest seed's accuracy %, highest seed's accuracy %)
Point = tuple[float, float, float, float]


def _point(cell: Cell, skipped: list[str]) -> Point | None:
    x = cell.mean_of("mean_thinking_tokens")
    if x is None or x <= 0:  # no compute axis, or off a log axis
        why = "no mean_thinking_tokens" if x is None else "no thinking (0 tokens) on a log axis"
        skipped.append(f"skipped ({why}): {cell.where()} {cell.key.benchmark} {cell.key.series.method} "
                       f"budget {cell.key.budget}")
        return None
    accs = [100 * a for a in cell.accuracies]
    return float(x), sum(accs) / len(accs), min(accs), max(accs)


def _series_points(cells: dict, keep, name, skipped: list[str], what: str):
    """({benchmark: {series name: [points sorted by compute]}}, {series name: series key}) over the
    cells (``group_cells``) whose key ``keep`` accepts; ``name`` maps the series keys to their names.
    Refuses, naming the run dir, when those cells exist but none has thinking counts (``what`` needs them)."""
    kept = [k for k in sorted(cells, key=budget_order) if keep(k)]
    refuse_without_thinking_counts([cells[k] for k in kept], what)
    names = name({k.series for k in kept})
    out: dict[str, dict[str, list[Point]]] = {}
    for key in kept:
        p = _point(cells[key], skipped)
        if p is not None:
            out.setdefault(key.benchmark, {}).setdefault(names[key.series], []).append(p)
    for lines in out.values():
        for pts in lines.values():
            pts.sort()
    return out, {n: s for s, n in names.items()}


def _xy(series: dict[str, dict[str, list[Point]]]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """The (compute, mean accuracy) pairs of each line, without the seeds' range."""
    return {b: {n: [(x, y) for x, y, _, _ in pts] for n, pts in lines.items()} for b, lines in series.items()}


def _draw(ax, pts: list[Point], label: str, style: tuple[str, str], linestyle: str = "-") -> None:
    xs = [p[0] for p in pts]
    ax.plot(xs, [p[1] for p in pts], color=style[0], marker=style[1], linestyle=linestyle, label=label)
    if any(lo != hi for _, _, lo, hi in pts):  # several seeds: their range as a band, not extra lines
        ax.fill_between(xs, [p[2] for p in pts], [p[3] for p in pts], color=style[0], alpha=0.15, linewidth=0)


def _styles(key_of: dict) -> dict[str, tuple[str, str]]:
    """{series name: (colour, marker)}: the colour keyed by the series' model, the marker by its method."""
    models = who(set(key_of.values()))
    return series_styles({name: (models[key], key.method) for name, key in key_of.items()})


def _save(fig, out_dir: Path, stem: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"{stem}.{ext}", dpi=150)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure1_series(col: Collection, method: str, skipped: list[str], stem: str):
    figure = "Figure 4a" if stem.startswith("figure4a") else "Figure 1"
    return _series_points(group_cells(col), lambda k: k.series.method == method,
                          lambda keys: {s: f"{n} ({method})" for s, n in who(keys).items()}, skipped,
                          f"{figure} ({method})")


def figure1(col: Collection, out_dir: Path, method: str = "bf", stem: str = "figure1",
            notes: list[str] | None = None):
    """Draw Figure 1 (one panel per benchmark); write ``<stem>.png`` and ``.pdf``; return (figure, points).
    Figure 4a is the same plot of ``bf_extend`` (accuracy against thinking as ignores grow). Rows
    left out are appended to ``notes``."""
    skipped: list[str] = []
    series, key_of = _figure1_series(col, method, skipped, stem)
    if notes is not None:
        notes.extend(skipped)
    if not series:
        where = col.root or "the collected runs"
        if skipped:  # rows there, each left out (0 thinking tokens cannot sit on a log axis)
            raise AnalysisInputError(f"{where}: nothing to plot, every {method} row was left out "
                                     f"({len(skipped)}; first: {skipped[0]})")
        raise AnalysisInputError(f"{where}: no {method} rows: nothing to plot (choose the method with --method)")
    plt = _pyplot()
    benchmarks = sorted(series)
    styles = _styles(key_of)
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(4.5 * len(benchmarks), 4.2), squeeze=False,
                             layout="constrained")
    for ax, bench in zip(axes[0], benchmarks):
        for label, pts in sorted(series[bench].items()):
            _draw(ax, pts, label, styles[label])
        ax.set_title(display_name(bench))
        log2_compute_axis(ax, "average thinking tokens (log 2)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    figure_legend(fig, styles)
    _save(fig, out_dir, stem)
    return fig, _xy(series)


def _figure4b_series(col, benchmark, sequential, parallel, skipped):
    """Figure 4b's series, one per (model, method): named by the method, with the model when several
    are present. Each row's ``mean_thinking_tokens`` is the compute axis, so a parallel method
    reports the thinking of all its samples per question (k samples of t tokens: k * t), which puts
    both scaling modes on one axis; each method is refused alone when none of its rows counts thinking."""
    def names(keys):
        models = who(keys)
        several = len(set(models.values())) > 1
        return {s: f"{s.method} ({models[s]})" if several else s.method for s in keys}

    cells = group_cells(col)
    for method in (sequential, parallel):
        refuse_without_thinking_counts([c for k, c in cells.items() if k.benchmark == benchmark
                                        and k.series.method == method], f"Figure 4b ({method} on {benchmark})")
    return _series_points(cells, lambda k: k.benchmark == benchmark and k.series.method in (sequential, parallel),
                          names, skipped, f"Figure 4b on {benchmark}")


def figure4b(col: Collection, out_dir: Path, benchmark: str, sequential: str = "bf", parallel: str = "majority",
             notes: list[str] | None = None):
    """Draw Figure 4b (sequential vs parallel scaling on one compute axis); write PNG and PDF.
    Refuses (naming the dir) when either method has no rows on ``benchmark``."""
    skipped: list[str] = []
    series, key_of = _figure4b_series(col, benchmark, sequential, parallel, skipped)
    lines = series.get(benchmark, {})
    if notes is not None:
        notes.extend(skipped)
    kind_of = {n: "parallel" if key_of[n].method == parallel else "sequential" for n in lines}
    for method, kind in ((sequential, "sequential"), (parallel, "parallel")):
        if kind not in kind_of.values():
            raise AnalysisInputError(
                f"{col.root or 'the collected runs'}: no {method} rows with thinking counts on {benchmark}: Figure 4b "
                f"compares {sequential} (sequential) with {parallel} (parallel); run method={method} on {benchmark} "
                f"or name the {kind} method with --{'method' if kind == 'sequential' else 'parallel'} "
                f"(--benchmark picks another benchmark)")
    plt = _pyplot()
    models = who(set(key_of.values()))
    several = len(set(models.values())) > 1
    labels = {n: f"{key_of[n].method} ({models[key_of[n]] + ', ' if several else ''}{kind_of[n]})" for n in lines}
    styles = {labels[n]: style for n, style in _styles({n: key_of[n] for n in lines}).items()}
    dashes = {labels[n]: "--" if kind_of[n] == "parallel" else "-" for n in lines}
    fig, ax = plt.subplots(figsize=(5.2, 4.4), layout="constrained")
    for name, pts in sorted(lines.items()):
        _draw(ax, pts, labels[name], styles[labels[name]], dashes[labels[name]])
    ax.set_title(display_name(benchmark))
    log2_compute_axis(ax, "thinking tokens per question (log 2)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    figure_legend(fig, styles, dashes)
    _save(fig, out_dir, f"figure4b_{benchmark}")
    return fig, _xy({benchmark: lines})[benchmark]
