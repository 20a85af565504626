"""How a series looks in every figure: its colour and marker keyed by its name, the log-2 compute axis.

A series is a model (its selection, or the model evaluated as given) under a
method. Its colour comes from the model's name and its marker from the method's
name, never from the order lines are drawn in (a missing cell would shift a
colour cycle): the paper's selections and methods have fixed ones, so s1K is
the same blue in Figure 1, Figure 4a and Figure 4b; any other name takes a
colour from a hash of it, moved to the next free one when two such names of
one figure collide.
"""

from __future__ import annotations

import hashlib
import math

# matplotlib's tab10, spelled out so the mapping does not depend on the style in use. The first five
# are the paper's selections'; the others are shared by every other model name, by hash.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
KNOWN_COLOURS = {"s1k": 0, "1k-random": 1, "1k-diverse": 2, "1k-longest": 3, "59k-full": 4}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
KNOWN_MARKERS = {"bf": 0, "majority": 1, "bf_extend": 2, "tcc": 3, "tcc_bf": 4, "scc": 5, "scc_bf": 6, "ccc": 7,
                 "rs": 8, "none": 9}


def _hash(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def _colours(models) -> dict[str, int]:
    out = {m: KNOWN_COLOURS[m] for m in models if m in KNOWN_COLOURS}
    free = [i for i in range(len(COLOURS)) if i not in KNOWN_COLOURS.values()]
    taken: set[int] = set()
    for m in sorted(set(models) - set(out)):
        slot = _hash(m) % len(free)
        if len(taken) < len(free):
            while free[slot] in taken:
                slot = (slot + 1) % len(free)
        taken.add(free[slot])
        out[m] = free[slot]
    return out


def series_styles(series: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """{series name: (colour, marker)} for the series of one figure, given {series name: (model, method)}."""
    colours = _colours({model for model, _ in series.values()})
    styles = {}
    for name, (model, method) in series.items():
        marker = KNOWN_MARKERS.get(method, _hash(method) % len(MARKERS))
        styles[name] = (COLOURS[colours[model]], MARKERS[marker])
    return styles


def _log2_ticks(low: float, high: float) -> list[float]:
    """Powers of two within [low, high]; where fewer than two fall inside (a narrow range), also the
    points between them (x1.5, then x1.25 and x1.75), so the axis always reads."""
    first, last = math.floor(math.log2(low)), math.ceil(math.log2(high))
    for subs in ((1.0,), (1.0, 1.5), (1.0, 1.25, 1.5, 1.75)):
        ticks = [m * 2**k for k in range(first, last + 1) for m in subs if low <= m * 2**k <= high]
        if len(ticks) >= 2:
            return ticks
    return ticks


def log2_compute_axis(ax, label: str) -> None:
    """A log-2 x axis with plain token counts at powers of two (512, 2048, 8192), as the paper's Figure 1.
    Call it after drawing: the ticks are chosen within the drawn range."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log", base=2)
    low, high = ax.get_xlim()
    ax.set_xticks(_log2_ticks(low, high))
    ax.set_xlim(low, high)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label)


def figure_legend(fig, styles: dict[str, tuple[str, str]], linestyles: dict[str, str] | None = None) -> None:
    """One legend for the whole figure, below the panels, an entry per series in name order."""
    from matplotlib.lines import Line2D

    names = sorted(styles)
    handles = [Line2D([], [], color=styles[n][0], marker=styles[n][1], linestyle=(linestyles or {}).get(n, "-"))
               for n in names]
    # As many columns as the figure's width holds: an entry is its line handle (~30 pt) and its text
    # (~0.55 em a character); a wider legend is cut off at the figure's edges.
    fontsize = 8
    entry_in = (30 + 0.55 * fontsize * max(map(len, names), default=1)) / 72
    ncol = max(1, min(len(names), 4, int(fig.get_figwidth() // entry_in)))
    fig.legend(handles, names, loc="outside lower center", ncol=ncol, fontsize=fontsize, frameon=False)
