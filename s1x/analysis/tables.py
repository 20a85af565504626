"""Paper tables from collected runs, written as Markdown, LaTeX and CSV.

- Table 2: accuracy per selection and benchmark, with the paired bootstrap CI
  of the difference to a reference selection (s1K in the paper) over questions.
- Table 3: Control, Scaling, Performance and |A| per test-time method.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from s1x.analysis.collect import Collection, Run
from s1x.analysis.metrics import RunPoint, control, performance, scaling
from s1x.analysis.stats import paired_bootstrap_cis


@dataclass
class Table:
    """A table of strings with a title; renders to Markdown, LaTeX and CSV."""

    title: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str]

    def markdown(self) -> str:
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.header) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines + [""] + [f"- {n}" for n in self.notes]) + "\n"

    def latex(self) -> str:
        esc = lambda s: s.replace("%", r"\%").replace("_", r"\_").replace("|A|", r"$|A|$")  # noqa: E731
        lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "c" * (len(self.header) - 1) + "}",
                 r"\toprule", " & ".join(esc(h) for h in self.header) + r" \\", r"\midrule"]
        lines += [" & ".join(esc(c) for c in r) + r" \\" for r in self.rows]
        lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{esc(self.title)}}}", r"\end{table}"]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(self.header)
        w.writerows(self.rows)
        return buf.getvalue()

    def write(self, out_dir: Path, stem: str) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for ext, text in (("md", self.markdown()), ("tex", self.latex()), ("csv", self.csv())):
            p = out_dir / f"{stem}.{ext}"
            p.write_text(text)
            paths.append(p)
        return paths


def _final_row(run: Run, benchmark: str, method: str | None) -> dict | None:
    """The row a table cell reports: the largest budget (or the unbudgeted row) of ``method``."""
    rows = run.rows(benchmark, method)
    if not rows:
        return None
    return max(rows, key=lambda r: float("inf") if r["budget"] is None else r["budget"])


def table2(col: Collection, reference: str = "s1k", method: str | None = "bf", n_resamples: int = 10_000,
           confidence: float = 0.95, seed: int = 0) -> Table:
    """Accuracy per selection x benchmark; CI of (selection - reference) over the shared questions."""
    by_sel: dict[str, Run] = {}
    for run in col.runs:
        if run.selection and "sft" in run.results.get("stages", []):
            by_sel.setdefault(run.selection, run)  # first run per selection (sorted by path)
    benchmarks = sorted({r["benchmark"] for run in by_sel.values() for r in run.rows(method=method)})
    notes = [f"Accuracy at the largest budget of method {method}; in brackets the {confidence:.0%} paired "
             f"bootstrap CI ({n_resamples:,} resamples over questions) of the difference to {reference}."]
    ref = by_sel.get(reference)
    if ref is None:
        notes.append(f"No {reference} run found: no intervals.")
    rows = []
    for sel in sorted(by_sel, key=lambda s: (s == reference, s)):
        cells = [sel]
        for bench in benchmarks:
            row = _final_row(by_sel[sel], bench, method)
            if row is None:
                cells.append("missing")
                continue
            cell = f"{100 * row['accuracy']:.1f}"
            ref_row = _final_row(ref, bench, method) if ref is not None and sel != reference else None
            if ref_row is not None:
                a, b = by_sel[sel].scores(row), ref.scores(ref_row)
                ids = [i for i in b if i in a]  # the reference's question order: resamples depend on it
                (low, high), = paired_bootstrap_cis([b[i] for i in ids], [[a[i] for i in ids]], n_resamples,
                                                    confidence, seed)
                cell += f" [{100 * low:.1f}%, {100 * high:.1f}%]"
            cells.append(cell)
        rows.append(cells)
    for path, why in col.missing:
        notes.append(f"missing cell {path}: {why}")
    return Table("Table 2: selection ablations", ["selection", *benchmarks], rows, notes)


def method_points(run: Run, benchmark: str, method: str) -> list[RunPoint]:
    """The runs of one method on one benchmark as metric points (one per budget). The bound is
    ``budget_tokens`` where a row has it (scc budgets are steps), else ``budget``."""
    def bound(r: dict) -> float:
        b = r.get("budget_tokens", r["budget"])
        return float(b) if b is not None else float("inf")

    return [RunPoint(compute=r["mean_thinking_tokens"], accuracy=r["accuracy"], max_compute=r["max_thinking_tokens"],
                     max_bound=bound(r))
            for r in run.rows(benchmark, method)
            if r.get("mean_thinking_tokens") is not None and r.get("max_thinking_tokens") is not None]


def _model_labels(runs: list[Run]) -> dict[str, str]:
    """A display name per evaluated model (a fine-tuned checkpoint is one path in the stage
    cache): its selection, suffixed with the end of the path when one selection trained several."""
    name = {}
    for run in runs:
        model = str(run.results.get("model_path") or run.path)
        fine_tuned = "sft" in run.results.get("stages", []) and run.selection
        name[model] = run.selection if fine_tuned else model
    count: dict[str, int] = {}
    for label in name.values():
        count[label] = count.get(label, 0) + 1
    return {m: (f"{label}@{m[-8:]}" if count[label] > 1 else label) for m, label in name.items()}


def table3(col: Collection, benchmark: str, compute_unit: float = 1.0) -> Table:
    """Control, Scaling (accuracy points per ``compute_unit`` thinking tokens), Performance, |A| per method.

    A set A is one method's runs of one model: runs of different fine-tuned models
    are never pooled (a slope between two models is not test-time scaling).
    """
    labels = _model_labels(col.runs)
    points: dict[tuple[str, str], list[RunPoint]] = {}
    for run in col.runs:
        model = str(run.results.get("model_path") or run.path)
        for method in sorted({r["method"] for r in run.rows(benchmark)}):
            pts = method_points(run, benchmark, method)
            if pts:  # rows without thinking counts (e.g. imported lm-eval logs) have no compute axis
                points.setdefault((method, labels[model]), []).extend(pts)
    several = len({label for _, label in points}) > 1
    rows = [[f"{m} ({label})" if several else m, f"{100 * control(p):.0f}%", f"{scaling(p, compute_unit):.2f}",
             f"{100 * performance(p):.1f}", str(len(p))] for (m, label), p in sorted(points.items())]
    notes = [f"Benchmark {benchmark}. Scaling is in accuracy points per {compute_unit:g} thinking tokens "
             "(mean per question); Control checks each run's largest per-question thinking against its budget."]
    notes += [f"missing cell {path}: {why}" for path, why in col.missing]
    return Table(f"Table 3: test-time methods on {benchmark}", ["method", "Control", "Scaling", "Performance", "|A|"],
                 rows, notes)
