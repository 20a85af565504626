"""How much does the selection seed matter? Compare the selections of several run dirs.

    python -m s1x.run -m stages=[select] selection.seed=0,1,2,3,4
    python -m s1x.selection.report multirun/<date>/<time>

Reads ``selection.jsonl`` and ``selection_stats.json`` from every run dir given
(or found below a multirun dir), and prints, per strategy: the pairwise
overlap of the selected ids (mean, min and max Jaccard), how many ids every
seed selected, and the spread of each domain's count across seeds.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Run dirs (holding ``selection.jsonl``) at or below ``paths``, sorted."""
    found = set()
    for p in paths:
        if (p / "selection.jsonl").exists():
            found.add(p)
        found.update(f.parent for f in p.rglob("selection.jsonl"))
    return sorted(found)


def seed_report(run_dirs: list[Path]) -> dict:
    """Per strategy: seeds, pairwise Jaccard of the selected ids, ids common to all seeds, domain spread."""
    groups: dict[str, list[tuple[int, set[str], dict]]] = defaultdict(list)
    for d in run_dirs:
        stats = json.loads((d / "selection_stats.json").read_text())
        ids = {json.loads(line)["id"] for line in (d / "selection.jsonl").read_text().splitlines() if line.strip()}
        groups[stats["strategy"]].append((stats["seed"], ids, stats["per_domain"]))
    report = {}
    for strategy, runs in sorted(groups.items()):
        runs.sort(key=lambda r: r[0])
        jac = [len(a & b) / len(a | b) for (_, a, _), (_, b, _) in itertools.combinations(runs, 2)]
        common = set.intersection(*(ids for _, ids, _ in runs))
        domains = sorted({d for _, _, per in runs for d in per})
        spread = {d: {"min": min(per.get(d, 0) for _, _, per in runs), "max": max(per.get(d, 0) for _, _, per in runs)}
                  for d in domains}
        report[strategy] = {
            "seeds": [s for s, _, _ in runs],
            "n": [len(ids) for _, ids, _ in runs],
            "jaccard": {"mean": float(np.mean(jac)), "min": float(min(jac)), "max": float(max(jac))} if jac else None,
            "in_every_selection": len(common),
            "per_domain_range": spread,
        }
    return report


def format_report(report: dict) -> str:
    """The report as plain text, one block per strategy."""
    lines = []
    for strategy, r in report.items():
        lines.append(f"{strategy}: seeds {r['seeds']}, sizes {r['n']}")
        if r["jaccard"]:
            j = r["jaccard"]
            lines.append(f"  pairwise Jaccard of selected ids: mean {j['mean']:.3f} (min {j['min']:.3f}, max {j['max']:.3f})")
        lines.append(f"  ids selected by every seed: {r['in_every_selection']}")
        wide = {d: f"{v['min']}-{v['max']}" for d, v in r["per_domain_range"].items() if v["max"] > v["min"]}
        lines.append(f"  per-domain count ranges that vary: {wide or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s1x.selection.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run dirs or multirun dirs")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    runs = find_run_dirs(args.paths)
    if not runs:
        parser.error(f"no selection.jsonl under {', '.join(map(str, args.paths))}; run with stages=[select] first")
    report = seed_report(runs)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
