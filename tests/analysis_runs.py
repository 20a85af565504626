"""Hand-built run dirs for the analysis tests: results.json and samples files as s1x writes them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def write_run(d, selection, rows_scores, stages=("select", "sft", "evaluate"), row_fields=None, **top):
    """A run dir: ``results.json`` plus one samples file per row.

    ``rows_scores`` maps (benchmark, method, budget, mean thinking, max thinking) to the per-question
    scores (a list: ids q0, q1, ...; or a dict {id: score}); ``row_fields`` adds fields to those rows;
    ``top`` adds or replaces top-level fields of results.json (seed, setting, model_path, choices...).
    """
    d = Path(d)
    d.mkdir(parents=True)
    (d / ".hydra").mkdir()
    (d / ".hydra" / "overrides.yaml").write_text(f"- selection={selection}\n")
    rows = []
    for key, scores in rows_scores.items():
        bench, method, budget, mean_t, max_t = key
        by_id = scores if isinstance(scores, dict) else {f"q{i}": s for i, s in enumerate(scores)}
        extra = (row_fields or {}).get(key, {})
        path = f"eval/{bench}/{method}-{budget}{extra.get('variant', '')}/samples.jsonl"
        (d / path).parent.mkdir(parents=True, exist_ok=True)
        (d / path).write_text("".join(json.dumps({"id": i, "correct": bool(s)}) + "\n" for i, s in by_id.items()))
        rows.append({"benchmark": bench, "method": method, "budget": budget, "n": len(by_id),
                     "accuracy": float(np.mean(list(by_id.values()))), "mean_thinking_tokens": mean_t,
                     "max_thinking_tokens": max_t, "within_budget_rate": 1.0, "samples": path, **extra})
    results = {"choices": {"selection": selection}, "stages": list(stages), "results": rows}
    results.update(top)
    (d / "results.json").write_text(json.dumps(results))
    return d


def edit_results(d, change):
    """Rewrite a run dir's results.json through ``change(results) -> results``."""
    p = Path(d) / "results.json"
    p.write_text(json.dumps(change(json.loads(p.read_text()))))


def analysis_cli(*args):
    """``python -m s1x.analysis ...`` as a user types it."""
    return subprocess.run([sys.executable, "-m", "s1x.analysis", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
