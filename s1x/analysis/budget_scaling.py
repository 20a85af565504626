"""The s1 effect of a run set in one report: ``python -m s1x.analysis scaling <dir>``.

For every model of the run set (each fine-tuned selection, each evaluate-only model) on one
benchmark and one budget-forcing method:

- accuracy at each thinking budget, with no "Wait" (the rows of ignore count 0; a run without
  per-ignore rows reports its rows as they are);
- the rise: accuracy at the largest budget minus the smallest, with its paired bootstrap CI over
  the questions (the same questions answered at both budgets);
- Control (share of budgets whose every question stayed within the budget), the lowest
  within-budget rate of any row, and Scaling (accuracy points per ``compute_unit`` thinking tokens);
- "Wait" xN at each budget, where the run has those rows: mean thinking against x0 (in %) and
  the accuracy difference with its paired CI, whatever its sign;
- against a reference model (``--reference``, s1K by default): the difference at the largest budget
  and of the rises, with paired CIs over the questions both answered.

Written as ``scaling.md/.tex/.csv`` (the table), ``scaling.json`` (every number, for tests and
tools) and ``scaling.png``/``.pdf`` (accuracy against mean thinking tokens, one line per model,
dashed: the most "Wait"s).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable

import numpy as np

from s1x.analysis.cells import Cell, SeriesKey, display_name, group_cells, ignores, shared_scores, who
from s1x.analysis.collect import Collection
from s1x.analysis.inputs import AnalysisInputError
from s1x.analysis.metrics import auto_compute_unit, control, scaling_with_reason
from s1x.analysis.render import Table
from s1x.analysis.stats import paired_bootstrap_ci
from s1x.analysis.tables import row_point

def _points(cells: dict[int, Cell]) -> list:
    return [row_point(c.members[0].row) for _, c in sorted(cells.items())]


def _diff(high: Cell, low: Cell, n_resamples: int, seed: int) -> dict:
    """mean(high) - mean(low) over the questions both answered, in points, with its paired CI."""
    ids, a, b, _ = shared_scores(high, low)
    lo, hi = paired_bootstrap_ci(a, b, n_resamples=n_resamples, seed=seed)
    return {"n": len(ids), "diff": 100 * float(a.mean() - b.mean()), "ci": [100 * lo, 100 * hi]}


def _ci_text(d: dict) -> str:
    return f"{d['diff']:+.1f} [{d['ci'][0]:+.1f}, {d['ci'][1]:+.1f}]"


def _rise_difference(mine: dict[int, Cell], ref: dict[int, Cell], n_resamples: int, seed: int) -> dict | None:
    """(rise of mine) - (rise of ref) over questions all four cells answered, with its paired CI."""
    lo_b, hi_b = min(mine), max(mine)
    if lo_b not in ref or hi_b not in ref:
        return None
    # Per question, seeds averaged (cells.shared_scores), in the reference's order as before.
    m_ids, m_hi, m_lo, _ = shared_scores(mine[hi_b], mine[lo_b])
    r_ids, r_hi, r_lo, _ = shared_scores(ref[hi_b], ref[lo_b])
    mine_rise, ref_rise = dict(zip(m_ids, m_hi - m_lo)), dict(zip(r_ids, r_hi - r_lo))
    ids = [i for i in r_ids if i in mine_rise]
    if not ids:
        return None
    a = np.array([mine_rise[i] for i in ids])
    b = np.array([ref_rise[i] for i in ids])
    lo, hi = paired_bootstrap_ci(a, b, n_resamples=n_resamples, seed=seed)
    return {"n": len(ids), "diff": 100 * float(a.mean() - b.mean()), "ci": [100 * lo, 100 * hi]}


def _versions(cells: Iterable[Cell]) -> dict[str, str]:
    """The library versions the runs behind ``cells`` recorded (``results.json``'s ``versions``),
    each package's distinct values joined by " | " when runs differ; a package a run did not have
    (recorded as null) is left out; {} when none were recorded."""
    seen: dict[str, set[str]] = {}
    for cell in cells:
        for m in cell.members:
            for name, v in (m.run.results.get("versions") or {}).items():
                if v is not None:
                    seen.setdefault(name, set()).add(str(v))
    return {name: " | ".join(sorted(vs)) for name, vs in sorted(seen.items())}


def _series_cells(col: Collection, benchmark: str | None, method: str):
    cells = group_cells(col)
    kept = {k: c for k, c in cells.items() if k.series.method == method and k.budget is not None
            and (benchmark is None or k.benchmark == benchmark)}
    if not kept:
        found = sorted({(k.benchmark, k.series.method) for k in cells})
        raise AnalysisInputError(f"{col.root or 'the collected runs'}: no budgeted {method} rows"
                                 f"{' on ' + benchmark if benchmark else ''} (found: "
                                 f"{', '.join(f'{b}/{m}' for b, m in found) or 'none'}; choose with --method/--benchmark)")
    benchmarks = sorted({k.benchmark for k in kept})
    if len(benchmarks) > 1:
        raise AnalysisInputError(f"{col.root or 'the collected runs'}: {method} rows on {', '.join(benchmarks)}; "
                                 "choose one with --benchmark")
    series: dict[SeriesKey, dict[int, dict[int, Cell]]] = {}
    for key, cell in kept.items():
        series.setdefault(key.series, {}).setdefault(ignores(key.variant), {})[key.budget] = cell
    return benchmarks[0], series


def scaling_report(col: Collection, benchmark: str | None = None, method: str = "bf", reference: str = "s1k",
                   compute_unit: float | None = None, n_resamples: int = 10_000, seed: int = 0) -> tuple[Table, dict]:
    """The report's table and its numbers (``{"benchmark", "compute_unit", "models": {name: ...}}``)."""
    bench, series = _series_cells(col, benchmark, method)
    names = who(series)
    unit = compute_unit or auto_compute_unit(
        [c.mean_of("mean_thinking_tokens") or 0 for per in series.values() for cs in per.values() for c in cs.values()])
    models: dict[str, dict] = {}
    for key, per_wait in sorted(series.items(), key=lambda kv: names[kv[0]]):
        base = per_wait[min(per_wait)]
        budgets = sorted(base)
        rows = [c.members[0].row for _, c in sorted(base.items())]
        slope, why = scaling_with_reason(_points(base), unit)
        out = {
            "selection": key.selection, "model": key.model, "budgets": budgets,
            "accuracy": [100 * base[b].accuracy for b in budgets],
            "mean_thinking_tokens": [base[b].mean_of("mean_thinking_tokens") for b in budgets],
            "n": [r["n"] for r in rows],
            "rise": _diff(base[budgets[-1]], base[budgets[0]], n_resamples, seed) if len(budgets) > 1 else None,
            "control": 100 * control(_points(base)),
            "min_within_budget": 100 * min(min(r["within_budget_rate"] for r in (m.row for m in c.members))
                                           for cs in per_wait.values() for c in cs.values()),
            "scaling": None if math.isnan(slope) else slope, "scaling_note": why,
            "waits": {},
            # What the numbers depend on besides the code (bf16 numerics on a CPU move with them).
            "versions": _versions(c for cs in per_wait.values() for c in cs.values()),
        }
        for waits, cells in sorted(per_wait.items()):
            if waits == min(per_wait):
                continue
            out["waits"][waits] = {b: {"thinking_change_pct": 100 * (cells[b].mean_of("mean_thinking_tokens")
                                                                    / max(base[b].mean_of("mean_thinking_tokens"), 1e-9) - 1),
                                       "accuracy": _diff(cells[b], base[b], n_resamples, seed)}
                                   for b in budgets if b in cells}
        models[names[key]] = out
    ref_names = [n for n, m in models.items() if m["selection"] == reference]
    for name, m in models.items():
        if ref_names and name != ref_names[0]:
            ref_key = next(k for k in series if names[k] == ref_names[0])
            my_key = next(k for k in series if names[k] == name)
            mine, ref = series[my_key][min(series[my_key])], series[ref_key][min(series[ref_key])]
            top = max(set(mine) & set(ref), default=None)
            m["vs_reference"] = None if top is None else {
                "reference": ref_names[0], "budget": top,
                "accuracy": _diff(mine[top], ref[top], n_resamples, seed),
                "rise": _rise_difference(mine, ref, n_resamples, seed)}
    numbers = {"benchmark": bench, "method": method, "compute_unit": unit, "n_resamples": n_resamples,
               "seed": seed, "models": models}
    return _table(numbers, reference), numbers


def _table(numbers: dict, reference: str) -> Table:
    models = numbers["models"]
    budgets = sorted({b for m in models.values() for b in m["budgets"]})
    waits = sorted({w for m in models.values() for w in m["waits"]})
    header = (["model"] + [f"acc @{b}" for b in budgets] + ["rise [95% CI]", "within budget (min)",
                                                               f"Scaling (per {numbers['compute_unit']:g})"]
              + [f"Wait x{w} @{budgets[-1]}: thinking, acc [CI]" for w in waits] + [f"vs {reference} @max [CI]"])
    rows = []
    for name, m in models.items():
        acc = dict(zip(m["budgets"], m["accuracy"]))
        row = [name] + [f"{acc[b]:.1f}" if b in acc else "-" for b in budgets]
        row += [_ci_text(m["rise"]) if m["rise"] else "-", f"{m['min_within_budget']:.0f}%",
                "n/a" if m["scaling"] is None else f"{m['scaling']:.2f}"]
        for w in waits:
            at = m["waits"].get(w, {}).get(m["budgets"][-1])
            row.append(f"{at['thinking_change_pct']:+.0f}%, {_ci_text(at['accuracy'])}" if at else "-")
        vs = m.get("vs_reference")
        row.append(_ci_text(vs["accuracy"]) + (f"; rise {_ci_text(vs['rise'])}" if vs and vs["rise"] else "")
                   if vs else "-")
        rows.append(row)
    notes = [f"Benchmark {display_name(numbers['benchmark'])}, method {numbers['method']}: accuracy (%) with no "
             "\"Wait\" at each thinking budget; rise = largest budget minus smallest, points, with the 95% paired "
             f"bootstrap CI over questions ({numbers['n_resamples']:,} resamples, seed {numbers['seed']}).",
             "Wait xN: mean thinking against x0 at the largest budget, and the accuracy difference to x0 with its CI "
             "(every budget in scaling.json)."]
    notes += [f"Scaling of {n} is n/a: {m['scaling_note']}" for n, m in models.items() if m["scaling_note"]]
    made_with = {", ".join(f"{k} {v}" for k, v in m["versions"].items()) for m in models.values()} - {""}
    if made_with:
        notes.append(f"Made with {'; '.join(sorted(made_with))} "
                     "(results.json `versions`; per model in scaling.json).")
    return Table(f"Test-time scaling on {display_name(numbers['benchmark'])}", header, rows, notes)


def scaling_figure(numbers: dict, out_dir: Path, stem: str = "scaling"):
    """Accuracy against mean thinking tokens: a solid line per model with no "Wait", a dashed one with the
    most "Wait"s (where it has them). Writes ``<stem>.png`` and ``.pdf``."""
    from s1x.analysis.figures import _pyplot, _save
    from s1x.analysis.styles import figure_legend, log2_compute_axis, series_styles

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.2), layout="constrained")
    styles = series_styles({name: (name, numbers["method"]) for name in numbers["models"]})
    linestyles = {}
    for name, m in numbers["models"].items():
        xs = [max(x or 0, 1) for x in m["mean_thinking_tokens"]]
        ax.plot(xs, m["accuracy"], color=styles[name][0], marker=styles[name][1], label=name)
        if m["waits"]:
            most = max(m["waits"], key=int)
            per = m["waits"][most]
            wx = [xs[i] * (1 + per[b]["thinking_change_pct"] / 100) for i, b in enumerate(m["budgets"]) if b in per]
            wy = [m["accuracy"][i] + per[b]["accuracy"]["diff"] for i, b in enumerate(m["budgets"]) if b in per]
            label = f"{name}, Wait x{most}"
            styles[label], linestyles[label] = styles[name], "--"
            ax.plot(wx, wy, color=styles[name][0], marker=styles[name][1], linestyle="--", alpha=0.7)
    log2_compute_axis(ax, "average thinking tokens (log 2)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(display_name(numbers["benchmark"]))
    ax.grid(alpha=0.3)
    figure_legend(fig, styles, linestyles)
    _save(fig, out_dir, stem)
    return fig


def write_scaling(col: Collection, out_dir: Path, **kwargs) -> tuple[Table, list[Path]]:
    """The report's table, ``scaling.json`` and the figure in ``out_dir``; returns the table and the paths."""
    table, numbers = scaling_report(col, **kwargs)
    paths = table.write(out_dir, "scaling")
    (out_dir / "scaling.json").write_text(json.dumps(numbers, indent=1, default=str) + "\n")
    scaling_figure(numbers, out_dir)
    return table, paths + [out_dir / "scaling.json", out_dir / "scaling.png", out_dir / "scaling.pdf"]
