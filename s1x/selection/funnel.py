"""The curation funnel (PAPER.md 1.1-1.3): which pool problems remain candidates, step by step.

:func:`curate` applies the filters a selection names, in order, and counts
every step:

    total -> dedup -> decontaminate -> quality -> kept (s1K keep rule) -> difficulty -> selected

To add a filter: a function here, its name in :data:`FILTERS`, and a branch in
:func:`curate`; a new quality flag goes to :mod:`s1x.selection.quality`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from s1x.records import PoolProblem
from s1x.selection.decontam import decontaminate, dedup

FILTERS = ("dedup", "decontaminate", "quality", "difficulty")


@dataclass
class Funnel:
    """Counts after each curation step, and why problems left."""

    steps: list[dict] = field(default_factory=list)

    def add(self, step: str, problems: list[PoolProblem], **detail) -> None:
        self.steps.append({"step": step, "count": len(problems), **detail})

    def count(self, step: str) -> int:
        return next(s["count"] for s in self.steps if s["step"] == step)


def _probe_solved(p: PoolProblem) -> bool:
    return any(p.features.get("probes", {}).values())


def passes_quality(p: PoolProblem) -> bool:
    """No quality flag set (a missing trace is always a flag)."""
    return bool(p.trace) and not any(p.features.get("quality", {}).values())


def keep_directly(problems: list[PoolProblem], rules) -> list[PoolProblem]:
    """Problems a keep rule takes without sampling (PAPER.md 1.2: 384 high-quality samples).

    A rule matches a problem whose source contains ``rule.source`` (case-insensitive),
    whose trace has at least ``rule.min_trace_tokens`` tokens and, if
    ``rule.require_correct``, whose generated attempt is graded correct.
    """
    kept = []
    for p in sorted(problems, key=lambda p: p.id):
        for r in rules:
            if (r["source"].lower() in p.source.lower()
                    and p.features.get("trace_tokens", 0) >= r.get("min_trace_tokens", 0)
                    and (p.features.get("attempt_correct", False) or not r.get("require_correct", True))):
                kept.append(p)
                break
    return kept


def curate(pool: list[PoolProblem], filters, benchmarks: dict[str, list[str]], keep_rules=(),
           ngram: int = 8) -> tuple[list[PoolProblem], list[PoolProblem], Funnel]:
    """Apply ``filters`` (a subset of :data:`FILTERS`) in order; return (kept, candidates, funnel).

    ``kept`` are taken by ``keep_rules`` from the quality-filtered pool before the
    difficulty filter (the paper keeps those 384 whatever the probes did);
    ``candidates`` is what the strategy samples from.
    """
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"selection.filters has unknown {sorted(unknown)}: allowed are {list(FILTERS)}")
    funnel = Funnel()
    funnel.add("total", pool)
    problems = pool
    if "dedup" in filters:
        problems = [problems[i] for i in dedup([p.question for p in problems])]
        funnel.add("dedup", problems)
    if "decontaminate" in filters:
        keep, hits = decontaminate([p.question for p in problems], benchmarks, ngram)
        problems = [problems[i] for i in keep]
        funnel.add("decontaminate", problems, removed_by_benchmark=dict(sorted(hits.items())),
                   benchmarks=sorted(benchmarks))
    if "quality" in filters:
        flags = Counter(f for p in problems for f, on in p.features.get("quality", {}).items() if on)
        problems = [p for p in problems if passes_quality(p)]
        funnel.add("quality", problems, flagged=dict(sorted(flags.items())))
    kept = keep_directly(problems, keep_rules) if keep_rules else []
    if keep_rules:
        funnel.add("kept", kept, per_source=dict(sorted(Counter(p.source for p in kept).items())))
    kept_ids = {p.id for p in kept}
    problems = [p for p in problems if p.id not in kept_ids]
    if "difficulty" in filters:
        solved = Counter(name for p in problems for name, ok in p.features.get("probes", {}).items() if ok)
        problems = [p for p in problems if not _probe_solved(p)]
        funnel.add("difficulty", problems, solved_by_probe=dict(sorted(solved.items())))
    return kept, problems, funnel


def selection_stats(selected: list[PoolProblem], funnel: Funnel, strategy: str, seed: int, filters) -> dict:
    """The funnel plus per-domain, per-source and trace-length statistics of a selection."""
    lengths = np.array([p.features.get("trace_tokens", 0) for p in selected])
    return {
        "strategy": strategy,
        "seed": seed,
        "filters": list(filters),
        "pool_size": funnel.count("total"),
        "n": len(selected),
        "funnel": funnel.steps + [{"step": "selected", "count": len(selected)}],
        "per_domain": dict(sorted(Counter(p.domain for p in selected).items())),
        "per_source": dict(sorted(Counter(p.source for p in selected).items())),
        "n_domains": len({p.domain for p in selected}),
        "trace_tokens": {
            "mean": float(lengths.mean()) if len(lengths) else 0.0,
            "min": int(lengths.min()) if len(lengths) else 0,
            "max": int(lengths.max()) if len(lengths) else 0,
        },
    }


def format_funnel(stats: dict) -> str:
    """The funnel as the notebook printed it: one line per step, with what left and why."""
    lines = [f"selection {stats['strategy']} (seed {stats['seed']}, filters {', '.join(stats['filters']) or 'none'})"]
    for s in stats["funnel"]:
        detail = {k: v for k, v in s.items() if k not in ("step", "count") and v}
        extra = "  " + "; ".join(f"{k}: {v}" for k, v in detail.items()) if detail else ""
        lines.append(f"  {s['step']:<14} {s['count']:>7,}{extra}")
    lines.append(f"  domains {stats['n_domains']}: {stats['per_domain']}")
    lines.append(f"  sources: {stats['per_source']}")
    t = stats["trace_tokens"]
    lines.append(f"  trace tokens mean {t['mean']:.1f} (min {t['min']}, max {t['max']})")
    return "\n".join(lines)
