"""Collect evaluation results from run dirs: ``results.json``, the samples it names, the overrides.

Only files are read, never launcher return values (a SLURM array may have lost
some of them). A dir with ``.hydra`` but no ``results.json`` is a missing cell
(failed, killed or still running), reported, not fatal; a ``results.json`` that
is there but malformed is an :class:`~s1x.analysis.inputs.AnalysisInputError`
naming the file and the field (``inputs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from s1x.analysis.inputs import AnalysisInputError, read_results, read_scores, read_yaml


@dataclass
class Run:
    """One run dir: its results record and the Hydra overrides that made it."""

    path: Path
    results: dict
    overrides: list[str] = field(default_factory=list)
    _scores: dict = field(default_factory=dict, repr=False)

    @property
    def selection(self) -> str | None:
        return (self.results.get("choices") or {}).get("selection")

    @property
    def fine_tuned(self) -> bool:
        """Whether this run trained the model it evaluated (its selection names the training set)."""
        return "sft" in (self.results.get("stages") or [])

    @property
    def seed(self) -> tuple:
        """What tells repeats of one cell apart: the run's seed and the selection's (null when absent)."""
        return self.results.get("seed"), (self.results.get("selection") or {}).get("seed")

    def rows(self, benchmark: str | None = None, method: str | None = None) -> list[dict]:
        return [r for r in self.results.get("results", [])
                if (benchmark is None or r["benchmark"] == benchmark) and (method is None or r["method"] == method)]

    def scores(self, row: dict) -> dict[str, float]:
        """Per-question correctness of one results row, from its samples file: {question id: score}."""
        if row["samples"] not in self._scores:
            self._scores[row["samples"]] = read_scores(self.path / row["samples"])
        return self._scores[row["samples"]]


@dataclass
class Collection:
    runs: list[Run]
    missing: list[tuple[Path, str]]  # (dir, why)
    root: Path | None = None


def _overrides(run_dir: Path) -> list[str]:
    p = run_dir / ".hydra" / "overrides.yaml"
    if not p.exists():
        return []
    value = read_yaml(p, "the Hydra overrides") or []
    if not isinstance(value, list):
        raise AnalysisInputError(f"{p}: must be a list of overrides (key=value), got {type(value).__name__}")
    return [str(v) for v in value]


def collect(root: Path | str) -> Collection:
    """Every run dir at or below ``root``: a dir with ``results.json`` (finished) or with a
    ``.hydra`` dir but no results (missing: failed or still running)."""
    root = Path(root)
    if not root.is_dir():
        raise AnalysisInputError(f"{root}: not a directory (give a multirun dir or a dir holding run dirs)")
    runs, missing = [], []
    candidates = {p.parent for p in root.rglob("results.json")} | {p.parent for p in root.rglob(".hydra")}
    for d in sorted(candidates):
        f = d / "results.json"
        if not f.exists():
            missing.append((d, "no results.json (failed, killed or still running)"))
            continue
        runs.append(Run(d, read_results(f), _overrides(d)))
    return Collection(runs, missing, root)
