"""One identity for a results row and one policy for repeats, used by every table and figure.

A row's identity (:class:`RowKey`) is what it measures: setting, model,
selection, method, controller, benchmark, budget (and the variant that splits
one budget, e.g. ``Wait x2`` or ``k=4``). The model of a fine-tuned run is its
base model (the selection, also in the key, names what it was tuned on); of an
evaluate-only run, the model it evaluated (its path: one named config can load different
weights), shown by its config name where it has one. Runs that differ only in their seeds
(``seed``, ``selection.seed``) are repeats of one cell and are aggregated: a
:class:`Cell` holds one member per seed, shown as the mean with the per-seed
spread. Any other two runs with the same identity are an error naming both run
dirs: the analysis cannot tell which one a table should show.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from s1x.analysis.collect import Collection, Run
from s1x.analysis.inputs import AnalysisInputError, read_yaml

@dataclass(frozen=True)
class SeriesKey:
    """A line of a figure, a row of a table: a row identity without benchmark and budget."""

    setting: str | None
    model: str
    selection: str | None  # the training set of a fine-tuned model; None for an evaluate-only run
    method: str
    controller: str | None
    # How tables and figures name an evaluate-only run's model (its config name); not part of the
    # identity, which keeps the path it loaded.
    label: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RowKey:
    """The identity of one results row (see the module docstring)."""

    series: SeriesKey
    benchmark: str
    budget: int | None
    variant: str | None

    def describe(self) -> str:
        s = self.series
        return (f"setting={s.setting} model={s.model} selection={s.selection} method={s.method} "
                f"controller={s.controller} benchmark={self.benchmark} budget={self.budget}"
                + (f" variant={self.variant}" if self.variant else ""))


@dataclass
class Member:
    """One seed's results row of a cell."""

    run: Run
    row: dict
    seed: tuple


@dataclass
class Cell:
    """The rows of one identity, one per seed (sorted by seed)."""

    key: RowKey
    members: list[Member]

    @property
    def accuracies(self) -> list[float]:
        return [float(m.row["accuracy"]) for m in self.members]

    @property
    def accuracy(self) -> float:
        return sum(self.accuracies) / len(self.members)

    def mean_of(self, field: str) -> float | None:
        """The seeds' mean of a numeric row field; None when any seed lacks it."""
        values = [m.row.get(field) for m in self.members]
        return None if any(v is None for v in values) else sum(values) / len(values)

    def where(self) -> str:
        return ", ".join(str(m.run.path) for m in self.members)


def _base_model(run: Run) -> str:
    """The base model a fine-tuned run started from: its ``model`` choice, or for ``model=<hub id or
    path>`` (choice ``hub``) the name the run's ``config.yaml`` records."""
    choice = (run.results.get("choices") or {}).get("model")
    if choice == "hub" and (run.path / "config.yaml").is_file():
        cfg = read_yaml(run.path / "config.yaml", "the run's config") or {}
        name = (cfg.get("model") or {}).get("name_or_path") if isinstance(cfg, dict) else None
        if name:
            return str(name)
    return str(choice or "?")


def row_key(run: Run, row: dict) -> RowKey:
    if run.fine_tuned:
        model, selection, label = _base_model(run), run.selection, None
    else:  # evaluated as given: the model is what was evaluated, the selection is not part of it
        choice = (run.results.get("choices") or {}).get("model")
        model, selection = str(run.results.get("model_path") or choice or run.path), None
        # Shown by its config name (model=smollm2-135m-instruct), not the stage-cache path it was
        # converted into; model=<hub id or path> (choice "hub") by what was loaded.
        label = choice if choice not in (None, "hub") else None
    series = SeriesKey(run.results.get("setting"), model, selection, row["method"], row.get("controller"),
                       label=label)
    return RowKey(series, row["benchmark"], row.get("budget"), row.get("variant"))


# Overrides that cannot make two runs of one identity measure different things: the identity's own
# keys, the seeds (what seeds of a cell differ in), and where or how a run was run and logged.
_IDENTITY_KEYS = {"selection", "model", "method", "setting", "benchmark", "engine"}
_NEUTRAL = ("seed", "selection.seed", "logger", "paths", "threads", "hydra", "sweeps", "distributed", "stages",
            "engine.batch_size", "method.budgets", "method.controller")


def _recipe(run: Run) -> set[str]:
    """The run's overrides that could change its numbers beyond its identity and seed (e.g. sft.lr=...)."""
    out = set()
    for o in run.overrides:
        key = o.lstrip("+~").split("=", 1)[0]
        neutral = any(key == p or key.startswith((p + ".", p + "/")) for p in _NEUTRAL)
        if key not in _IDENTITY_KEYS and not neutral:
            out.add(o.lstrip("+~"))
    return out


def _differing_overrides(a: Run, b: Run, among=lambda r: set(r.overrides)) -> str:
    only_a, only_b = sorted(among(a) - among(b)), sorted(among(b) - among(a))
    if not only_a and not only_b:
        return ""
    return f" (overrides {' '.join(only_a) or '-'} vs {' '.join(only_b) or '-'})"


def group_cells(col: Collection) -> dict[RowKey, Cell]:
    """Every results row of the collection under its identity, seeds of one cell together.

    Raises :class:`AnalysisInputError` naming both run dirs when two rows share an
    identity and a seed (two runs of the same cell, or a run listing a row twice), or
    when runs of one identity differ in an override besides their seeds (``sft.lr=...``):
    those are not seeds of one cell.
    """
    cells: dict[RowKey, Cell] = {}
    for run in col.runs:
        for row in run.rows():
            key = row_key(run, row)
            member = Member(run, row, run.seed)
            cell = cells.setdefault(key, Cell(key, []))
            twin = next((m for m in cell.members if m.seed == member.seed), None)
            if twin is not None:
                raise AnalysisInputError(
                    f"{twin.run.path} and {run.path}: two results for the same cell ({key.describe()}) with the "
                    f"same seed {_seed_text(member.seed)}{_differing_overrides(twin.run, run)}; seeds of a cell are "
                    "averaged, anything else must differ in the key: move one run dir out of the analysed dir")
            first = cell.members[0].run if cell.members else run
            if _recipe(first) != _recipe(run):
                raise AnalysisInputError(
                    f"{first.path} and {run.path}: runs of one cell ({key.describe()}) that "
                    f"differ besides their seeds{_differing_overrides(first, run, _recipe)}: they are not seeds of one "
                    "cell; analyse them apart (one dir each)")
            cell.members.append(member)
    for cell in cells.values():
        cell.members.sort(key=lambda m: tuple((v is None, v or 0) for v in m.seed))
    return cells


def shared_scores(cell: Cell, ref: Cell) -> tuple[list[str], np.ndarray, np.ndarray, bool]:
    """The questions every seed of both cells answered (in the reference's order: resamples depend
    on it), each cell's per-question score averaged over its seeds, and whether those are all the
    questions of both."""
    mine = [m.run.scores(m.row) for m in cell.members]
    theirs = [m.run.scores(m.row) for m in ref.members]
    ids = [i for i in theirs[0] if all(i in s for s in mine + theirs)]
    a = np.array([[s[i] for s in mine] for i in ids]).reshape(len(ids), len(mine)).mean(axis=1)
    b = np.array([[s[i] for s in theirs] for i in ids]).reshape(len(ids), len(theirs)).mean(axis=1)
    return ids, a, b, all(len(s) == len(ids) for s in mine + theirs)


def _seed_text(seed: tuple) -> str:
    run_seed, selection_seed = seed
    return f"seed={run_seed}" + (f", selection.seed={selection_seed}" if selection_seed is not None else "")


def refuse_without_thinking_counts(cells, what: str,
                                   fields: tuple[str, ...] = ("mean_thinking_tokens",)) -> None:
    """Raise :class:`AnalysisInputError` when ``cells`` hold rows but not one carries every field of
    ``fields`` (null or absent): ``what`` (a figure, a table) has no compute axis to draw on.

    One row with the counts is enough to go on (the rest are skipped and listed by the caller);
    none is a refusal naming the run dir, so a run set that can never give the figure (an
    imported lm-eval log, say) says so instead of drawing an empty plot.
    """
    members = [m for cell in cells for m in cell.members]
    if not members or any(all(m.row.get(f) is not None for f in fields) for m in members):
        return
    dirs = sorted({str(m.run.path) for m in members})
    more = f" (and {len(dirs) - 1} more run dir{'s' if len(dirs) > 2 else ''})" if len(dirs) > 1 else ""
    raise AnalysisInputError(
        f"{dirs[0]}{more}: no row has {' and '.join(fields)} (null or absent), which {what} needs as its "
        f"compute axis; evaluate the model with s1x (an imported lm-eval log carries no thinking counts)")


_WAITS = re.compile(r" x(\d+)$")
_SAMPLES = re.compile(r"^k=(\d+)$")


def ignores(variant: str | None) -> int:
    """The ignore count a row's variant names (``Wait x2`` -> 2); 0 for a row without one."""
    found = _WAITS.search(variant or "")
    return int(found.group(1)) if found else 0


def variant_preference(variant: str | None) -> int:
    """How a table that reports one row per budget ranks the variants of that budget, highest
    kept: the row without "Wait" ("Wait x0", the paper's Table 2 budget forcing; a row without a
    variant ranks the same) above "Wait x1", "x2", ...; the most samples (``k=16`` above ``k=8``)
    for a sampled method."""
    samples = _SAMPLES.match(variant or "")
    return int(samples.group(1)) if samples else -ignores(variant)


def budget_order(key: RowKey) -> tuple:
    """Rows of a series in budget order; the unbudgeted row (budget null) comes last (no cap)."""
    return (math.inf if key.budget is None else key.budget, key.variant or "")


def _short_model(model: str) -> str:
    """A hub id stays as is; a local path shows its last two parts (a stage-cache path is long)."""
    if model.startswith(("/", ".", "~")):
        return "/".join(Path(model).parts[-2:])
    return model


def who(keys) -> dict[SeriesKey, str]:
    """A name per series for its model: the selection of a fine-tuned model (with the base model,
    setting and controller where they vary among ``keys``), the model of an evaluate-only run."""
    keys = list(dict.fromkeys(keys))

    def varies(field: str, among=keys) -> bool:
        return len({getattr(k, field) for k in among}) > 1

    fine_tuned = [k for k in keys if k.selection is not None]
    out = {}
    for k in keys:
        parts = [k.selection] if k.selection is not None else [k.label or _short_model(k.model)]
        if k.selection is not None and varies("model", fine_tuned):  # base models of fine-tuned runs
            parts.append(_short_model(k.model))
        if varies("setting"):
            parts.append(str(k.setting))
        if varies("controller"):
            parts.append(str(k.controller))
        out[k] = ", ".join(parts)
    # Two models can shorten to one name (paths ending alike): those keep their full model.
    owners: dict[str, set] = {}
    for k, label in out.items():
        owners.setdefault(label, set()).add((k.setting, k.model, k.selection, k.controller))
    return {k: (f"{label} [{k.model}]" if len(owners[label]) > 1 else label) for k, label in out.items()}


def spread_text(values: list[float], fmt: str, suffix: str = "") -> str:
    """`` (3 seeds: 33.3 to 40.0)`` for several seeds, nothing for one."""
    if len(values) < 2:
        return ""
    return f" ({len(values)} seeds: {format(min(values), fmt)}{suffix} to {format(max(values), fmt)}{suffix})"


# How the paper prints the benchmarks it names; any other benchmark shows its config name.
DISPLAY_NAMES = {"aime24": "AIME24", "aime25": "AIME25", "math500": "MATH500", "gpqa_diamond": "GPQA Diamond"}


def display_name(benchmark: str) -> str:
    return DISPLAY_NAMES.get(benchmark, benchmark)
