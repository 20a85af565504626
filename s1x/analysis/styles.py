"""How a series looks in every figure: its colour and marker keyed by its name, the log-2 compute axis.

A series keeps its colour and marker across panels and figures because both
come from a hash of its name, not from the order it was drawn in (a missing
cell would shift a colour cycle). Two names of one figure that hash to the same
colour are separated deterministically: in name order, the later one moves to
the next colour not yet used in that figure.
"""

from __future__ import annotations

import hashlib

# matplotlib's tab10, spelled out so the mapping does not depend on the style in use.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _slot(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def series_styles(names) -> dict[str, tuple[str, str]]:
    """{series name: (colour, marker)} for the series of one figure."""
    styles: dict[str, tuple[str, str]] = {}
    used_colours: set[int] = set()
    used: set[tuple[int, int]] = set()
    for name in sorted(set(names)):
        h = _slot(name)
        colour, marker = h % len(COLOURS), (h // len(COLOURS)) % len(MARKERS)
        if len(used_colours) < len(COLOURS):
            while colour in used_colours:
                colour = (colour + 1) % len(COLOURS)
        else:  # more series than colours: keep the colour, make the (colour, marker) pair unique
            while (colour, marker) in used:
                marker = (marker + 1) % len(MARKERS)
                colour = colour if marker else (colour + 1) % len(COLOURS)
        used_colours.add(colour)
        used.add((colour, marker))
        styles[name] = (COLOURS[colour], MARKERS[marker])
    return styles


def log2_compute_axis(ax, label: str) -> None:
    """A log-2 x axis with plain token counts at powers of two (512, 2048, 8192), as the paper's Figure 1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(LogLocator(base=2))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label)


def figure_legend(fig, styles: dict[str, tuple[str, str]], linestyles: dict[str, str] | None = None) -> None:
    """One legend for the whole figure, below the panels, an entry per series in name order."""
    from matplotlib.lines import Line2D

    names = sorted(styles)
    handles = [Line2D([], [], color=styles[n][0], marker=styles[n][1], linestyle=(linestyles or {}).get(n, "-"))
               for n in names]
    fig.legend(handles, names, loc="outside lower center", ncol=min(len(names), 4), fontsize=8, frameon=False)
