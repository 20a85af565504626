"""Paper tables from collected runs, written as Markdown, LaTeX and CSV (``render.py``).

- Table 2: accuracy per selection and benchmark, with the paired bootstrap CI
  of the difference to a reference selection (s1K in the paper) over the
  questions both share.
- Table 3: Control, Scaling, Performance and |A| per test-time method.

Rows are grouped by their identity and seeds are averaged (``cells.py``);
every row a table leaves out for a reason is listed in its notes.
"""

from __future__ import annotations

import math

from s1x.analysis.cells import (Cell, SeriesKey, budget_order, display_name, group_cells, refuse_without_thinking_counts,
                                shared_scores, spread_text, variant_preference, who)
from s1x.analysis.collect import Collection
from s1x.analysis.inputs import AnalysisInputError
from s1x.analysis.metrics import RunPoint, auto_compute_unit, control, performance, scaling_with_reason
from s1x.analysis.render import Table
from s1x.analysis.stats import paired_bootstrap_cis

__all__ = ["Table", "row_point", "table2", "table3"]


def _where(col: Collection) -> str:
    return str(col.root) if col.root is not None else "the collected runs"


def _final_cells(cells: dict, keep) -> dict[SeriesKey, dict[str, Cell]]:
    """{series: {benchmark: the cell a table reports}}: the largest budget (the unbudgeted row counts
    as the largest) of each series kept by ``keep``; of that budget's variants, the plain row (no
    "Wait") or the most samples (``variant_preference``)."""
    out: dict[SeriesKey, dict[str, Cell]] = {}
    order = lambda k: (budget_order(k)[0], variant_preference(k.variant), k.variant or "")  # noqa: E731
    for key in sorted((k for k in cells if keep(k.series)), key=order):
        out.setdefault(key.series, {})[key.benchmark] = cells[key]  # later rows overwrite earlier ones
    return out


def _table2_cell(cell: Cell, ref: Cell | None, reference: str, n_resamples: int, confidence: float, seed: int,
                 flags: set) -> str:
    spread = spread_text([100 * a for a in cell.accuracies], ".1f")
    if len(cell.members) > 1:
        flags.add("seeds")
    if ref is None or ref is cell:
        return f"{100 * cell.accuracy:.1f}{spread}"
    ids, a, b, complete = shared_scores(cell, ref)
    if not ids:
        flags.add("disjoint")
        return f"{100 * cell.accuracy:.1f} (no question shared with {reference}: no interval){spread}"
    (low, high), = paired_bootstrap_cis(b, [a], n_resamples, confidence, seed)
    interval = f" [{100 * low:.1f}%, {100 * high:.1f}%]"
    if complete:
        return f"{100 * cell.accuracy:.1f}{interval}{spread}"
    flags.add("shared")
    sizes = {len(m.run.scores(m.row)) for m in cell.members}
    on_all = f"all {sizes.pop()}" if len(sizes) == 1 else "all"
    return f"{100 * a.mean():.1f}{interval} (n={len(ids)} shared; {on_all}: {100 * cell.accuracy:.1f}){spread}"


def table2(col: Collection, reference: str = "s1k", method: str | None = "bf", n_resamples: int = 10_000,
           confidence: float = 0.95, seed: int = 0) -> Table:
    """Accuracy per selection x benchmark; CI of (selection - reference) over the questions both share."""
    cells = group_cells(col)
    final = _final_cells(cells, lambda s: s.selection is not None and method in (None, s.method))
    if not final:
        found = sorted({k.series.method for k in cells if k.series.selection is not None})
        raise AnalysisInputError(f"{_where(col)}: no fine-tuned run has {method} rows, nothing for Table 2 "
                                 f"(methods of fine-tuned runs: {', '.join(found) or 'none'}; choose one with --method)")
    benchmarks = sorted({b for per_bench in final.values() for b in per_bench})
    names = who(final)
    several_methods = len({s.method for s in final}) > 1
    variants = sorted({c.key.variant for per_bench in final.values() for c in per_bench.values() if c.key.variant})
    which = f" ({', '.join(variants)})" if variants else ""
    of = f"method {method}" if method else "each method"
    notes = [(f"Accuracy at the largest budget of {of}{which}; in brackets the {confidence:.0%} paired "
              f"bootstrap CI ({n_resamples:,} resamples over questions) of the difference to {reference}.")]
    flags: set = set()
    rows = []
    order = sorted(final, key=lambda s: (str(s.setting), s.model, str(s.controller), s.method,
                                         s.selection == reference, names[s]))
    for series in order:
        ref_series = SeriesKey(series.setting, series.model, reference, series.method, series.controller)
        if ref_series not in final:
            notes.append(f"No {reference} run for {names[series]}: no intervals.")
        cells_row = [f"{names[series]} ({series.method})" if several_methods else names[series]]
        for bench in benchmarks:
            cell = final[series].get(bench)
            ref = final.get(ref_series, {}).get(bench)
            cells_row.append("missing" if cell is None else
                             _table2_cell(cell, ref, reference, n_resamples, confidence, seed, flags))
        rows.append(cells_row)
    notes = list(dict.fromkeys(notes))  # one "no reference" note per reference, not per row
    if "shared" in flags:
        notes.append("n=K shared: the two runs share only K questions; the accuracy before the interval is on "
                     "those K (as the interval), 'all N' is on all of the cell's questions.")
    if "disjoint" in flags:
        notes.append(f"A cell without an interval shares no question id with {reference}.")
    if "seeds" in flags:
        notes.append("Seeds of a cell are averaged (per question for the interval); in parentheses the "
                     "per-seed range.")
    skipped = sorted({str(r.path) for r in col.runs if not r.fine_tuned and r.rows(method=method)})
    notes += [f"not in Table 2 (no sft stage: it evaluated a given model): {p}" for p in skipped]
    notes += [f"missing cell {path}: {why}" for path, why in col.missing]
    return Table("Table 2: selection ablations", ["selection", *map(display_name, benchmarks)], rows, notes)


def row_point(row: dict) -> RunPoint:
    """A results row as a metric point. The bound is ``budget_tokens`` where a row has it (scc budgets
    are steps), else ``budget``; a row without a budget has none."""
    bound = row.get("budget_tokens", row["budget"])
    return RunPoint(compute=float(row["mean_thinking_tokens"]), accuracy=float(row["accuracy"]),
                    max_compute=float(row["max_thinking_tokens"]),
                    max_bound=float(bound) if bound is not None else float("inf"))


def _mean_text(values: list[float], fmt: str, scale: float = 1.0, suffix: str = "") -> str:
    shown = [scale * v for v in values]
    return f"{format(sum(shown) / len(shown), fmt)}{suffix}" + spread_text(shown, fmt, suffix)


def table3(col: Collection, benchmark: str, compute_unit: float | None = None) -> Table:
    """Control, Scaling (accuracy points per ``compute_unit`` thinking tokens; by default a power of ten
    from the computes' range, printed in the header), Performance, |A| per method and model.

    A set A is one method's runs of one model: runs of different fine-tuned models
    are never pooled (a slope between two models is not test-time scaling), and
    each seed (one training) is its own set A; a row shows the seeds' mean.
    """
    cells = {k: c for k, c in group_cells(col).items() if k.benchmark == benchmark}
    if not cells:
        found = sorted({r["benchmark"] for run in col.runs for r in run.rows()})
        raise AnalysisInputError(f"{_where(col)}: no results rows for benchmark {benchmark!r} "
                                 f"(found: {', '.join(found) or 'none'}; choose one with --benchmark)")
    refuse_without_thinking_counts(cells.values(), f"Table 3 on {benchmark}",
                                   ("mean_thinking_tokens", "max_thinking_tokens"))
    sets: dict[SeriesKey, dict[tuple, list[RunPoint]]] = {}
    skipped = []
    for key in sorted(cells, key=budget_order):
        for m in cells[key].members:
            if m.row.get("mean_thinking_tokens") is None or m.row.get("max_thinking_tokens") is None:
                skipped.append(f"skipped (no thinking counts, no compute axis): {m.run.path} {key.series.method} "
                               f"budget {key.budget}")
                continue
            sets.setdefault(key.series, {}).setdefault(m.seed, []).append(row_point(m.row))
    unit = compute_unit or auto_compute_unit([p.compute for per in sets.values() for ps in per.values() for p in ps])
    names = who(sets)
    several = len(set(names.values())) > 1
    rows, reasons = [], []
    for series in sorted(sets, key=lambda s: (s.method, names[s])):
        per_seed = list(sets[series].values())
        label = f"{series.method} ({names[series]})" if several else series.method
        slopes = [scaling_with_reason(p, unit) for p in per_seed]
        defined = [v for v, _ in slopes if not math.isnan(v)]
        reasons += [f"Scaling of {label} is n/a: {why}" for _, why in slopes if why]
        sizes = sorted({len(p) for p in per_seed})
        rows.append([label, _mean_text([control(p) for p in per_seed], ".0f", 100, "%"),
                     _mean_text(defined, ".2f") if defined else "n/a",
                     _mean_text([performance(p) for p in per_seed], ".1f", 100),
                     str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"])
    how = "as given" if compute_unit else "chosen from the computes' range; set it with --compute-unit"
    notes = [(f"Benchmark {display_name(benchmark)}. Scaling is in accuracy points per {unit:,g} thinking tokens "
              f"(mean per question; unit {how}); Control checks each run's largest per-question thinking against "
              "its budget.")]
    if any(len(per) > 1 for per in sets.values()):
        notes.append("Each seed is its own set A; a row shows the seeds' mean, in parentheses their range.")
    notes += list(dict.fromkeys(reasons)) + skipped + [f"missing cell {path}: {why}" for path, why in col.missing]
    header = ["method", "Control", f"Scaling (per {unit:,g} tokens)", "Performance", "|A|"]
    return Table(f"Table 3: test-time methods on {display_name(benchmark)}", header, rows, notes)
