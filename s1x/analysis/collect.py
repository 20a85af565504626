"""Collect evaluation results from run dirs: ``results.json``, the samples it names, the overrides.

Only files are read, never launcher return values (a SLURM array may have lost
some of them). A cell without a finished ``results.json`` is reported as
missing, not fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Run:
    """One run dir: its results record and the Hydra overrides that made it."""

    path: Path
    results: dict
    overrides: list[str] = field(default_factory=list)

    @property
    def selection(self) -> str | None:
        return self.results.get("choices", {}).get("selection")

    def rows(self, benchmark: str | None = None, method: str | None = None) -> list[dict]:
        return [r for r in self.results.get("results", [])
                if (benchmark is None or r["benchmark"] == benchmark) and (method is None or r["method"] == method)]

    def scores(self, row: dict) -> dict[str, float]:
        """Per-question correctness of one results row, from its samples file: {question id: score}."""
        out: dict[str, list[float]] = {}
        with open(self.path / row["samples"]) as f:
            for line in f:
                if line.strip():
                    s = json.loads(line)
                    out.setdefault(s["id"], []).append(float(s["correct"]))
        return {k: sum(v) / len(v) for k, v in out.items()}


@dataclass
class Collection:
    runs: list[Run]
    missing: list[tuple[Path, str]]  # (dir, why)


def _overrides(run_dir: Path) -> list[str]:
    p = run_dir / ".hydra" / "overrides.yaml"
    if not p.exists():
        return []
    import yaml

    return list(yaml.safe_load(p.read_text()) or [])


def collect(root: Path | str) -> Collection:
    """Every run dir at or below ``root``: a dir with ``results.json`` (finished) or with a
    ``.hydra`` dir but no results (missing: failed or still running)."""
    root = Path(root)
    runs, missing = [], []
    candidates = {p.parent for p in root.rglob("results.json")} | {p.parent for p in root.rglob(".hydra")}
    for d in sorted(candidates):
        f = d / "results.json"
        if not f.exists():
            missing.append((d, "no results.json (failed, killed or still running)"))
            continue
        try:
            runs.append(Run(d, json.loads(f.read_text()), _overrides(d)))
        except (json.JSONDecodeError, OSError) as e:
            missing.append((d, f"unreadable results.json: {e}"))
    return Collection(runs, missing)
