"""The curation funnel (PAPER.md 1.1-1.3): which pool problems remain candidates, step by step.

:func:`curate` applies the filters a selection names, always in this order,
and counts every step::

    total -> dedup -> decontaminate -> missing -> quality -> difficulty -> kept

- ``dedup``, ``decontaminate``: the collection-time steps (PAPER.md 1.1; the
  59K pool already had them, so the paper's s1K does not list them);
- ``missing``: drop a problem whose required feature (domain, trace length,
  attempt correctness, each probe's correctness) is null, as the notebook drops
  every question whose feature dict holds a ``None``;
- ``quality``: :mod:`s1x.selection.quality` under ``selection.quality_rules``;
- ``difficulty``: drop what any probe solved;
- ``kept``: the keep rule (:func:`keep_directly`) on the difficulty-filtered
  set, as the notebook does; ``keep_before_difficulty=True`` (s1x's tiny
  default) takes the kept problems from the quality-filtered set instead and
  exempts them from the difficulty filter.

To add a filter: a function here, its name in :data:`FILTERS` (order), and a
branch in :func:`curate`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from s1x.records import PoolProblem
from s1x.selection.decontam import decontaminate, dedup
from s1x.selection.quality import flags_under

FILTERS = ("dedup", "decontaminate", "missing", "quality", "difficulty")
# Features every s1K-style selection reads; a null one drops the problem in the missing step.
REQUIRED_FEATURES = ("domain", "trace_tokens", "attempt_correct")
SOURCE_MATCHES = ("exact", "contains", "icontains")


@dataclass
class Funnel:
    """Counts after each curation step, and why problems left."""

    steps: list[dict] = field(default_factory=list)

    def add(self, step: str, problems: list[PoolProblem], **detail) -> None:
        self.steps.append({"step": step, "count": len(problems), **detail})

    def count(self, step: str) -> int:
        return next(s["count"] for s in self.steps if s["step"] == step)


def source_matches(pattern: str, source: str, match: str) -> bool:
    """Whether ``source`` is ``pattern`` (``exact``, the notebook's ``==``), contains it
    (``contains``, the notebook's ``in``), or contains it ignoring case (``icontains``)."""
    if match == "exact":
        return source == pattern
    if match == "contains":
        return pattern in source
    if match == "icontains":
        return pattern.lower() in source.lower()
    raise ValueError(f"source match {match!r} is not one of {list(SOURCE_MATCHES)}")


def missing_features(p: PoolProblem) -> list[str]:
    """The required features of ``p`` that are null (``probe:<name>`` for a probe's answer)."""
    out = [name for name in REQUIRED_FEATURES if p.features.get(name) is None]
    return out + [f"probe:{k}" for k, v in sorted(p.features.get("probes", {}).items()) if v is None]


def _probe_solved(p: PoolProblem) -> bool:
    return any(p.features.get("probes", {}).values())


def keep_directly(problems: list[PoolProblem], rules) -> list[PoolProblem]:
    """Problems a keep rule takes without sampling (the notebook's 393 benchmark-like ones).

    A rule matches a problem whose source matches ``rule.source`` (``rule.match``:
    exact, contains, icontains), whose trace has at least ``rule.min_trace_tokens``
    tokens and, if ``rule.trace_tokens_above`` is set, strictly more than that
    (the notebook's ``gemini_length > 5600``), and, if ``rule.require_correct``,
    whose generated attempt is graded correct.
    """
    kept = []
    for p in sorted(problems, key=lambda p: p.id):
        length = p.features.get("trace_tokens") or 0
        for r in rules:
            above = r.get("trace_tokens_above")
            if (source_matches(r["source"], p.source, r.get("match", "exact"))
                    and length >= r.get("min_trace_tokens", 0)
                    and (above is None or length > above)
                    and (p.features.get("attempt_correct") or not r.get("require_correct", True))):
                kept.append(p)
                break
    return kept


def curate(pool: list[PoolProblem], filters, benchmarks: dict[str, list[str]], keep_rules=(), ngram: int = 8,
           quality_rules: str = "notebook", keep_before_difficulty: bool = False,
           ) -> tuple[list[PoolProblem], list[PoolProblem], Funnel]:
    """Apply ``filters`` (a subset of :data:`FILTERS`, in that order); return (kept, candidates, funnel).

    ``candidates`` is what is left after every filter. With the keep rule after
    the difficulty filter (the notebook) the kept problems are among them; with
    ``keep_before_difficulty`` they are not (they never met the difficulty filter).
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
    if "missing" in filters:
        nulls = {p.id: missing_features(p) for p in problems}
        problems = [p for p in problems if not nulls[p.id]]
        funnel.add("missing", problems, null_feature=dict(sorted(Counter(f for v in nulls.values() for f in v).items())))
    if "quality" in filters:
        flagged: Counter = Counter()
        passed = []
        for p in problems:
            on = [f for f, v in flags_under(quality_rules, p.question, p.trace, p.attempt, p.source).items() if v]
            flagged.update(on)
            if not on:
                passed.append(p)
        problems = passed
        funnel.add("quality", problems, flagged=dict(sorted(flagged.items())), rules=quality_rules)
    kept: list[PoolProblem] = []
    if keep_rules and keep_before_difficulty:
        kept = keep_directly(problems, keep_rules)
        funnel.add("kept", kept, per_source=dict(sorted(Counter(p.source for p in kept).items())))
        kept_ids = {p.id for p in kept}
        problems = [p for p in problems if p.id not in kept_ids]
    if "difficulty" in filters:
        solved = Counter(name for p in problems for name, ok in p.features.get("probes", {}).items() if ok)
        problems = [p for p in problems if not _probe_solved(p)]
        funnel.add("difficulty", problems, solved_by_probe=dict(sorted(solved.items())))
    if keep_rules and not keep_before_difficulty:
        kept = keep_directly(problems, keep_rules)
        funnel.add("kept", kept, per_source=dict(sorted(Counter(p.source for p in kept).items())))
    return kept, problems, funnel


def selection_stats(selected: list[PoolProblem], funnel: Funnel, strategy: str, seed: int, filters) -> dict:
    """The funnel plus per-domain, per-source and trace-length statistics of a selection."""
    lengths = np.array([p.features.get("trace_tokens") or 0 for p in selected])
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
    if stats.get("features"):
        f = stats["features"]
        lines.append(f"  features given by the pool: {', '.join(f['given']) or 'none'}; "
                     f"computed: {', '.join(f['computed']) or 'none'}")
    lines.append(f"  domains {stats['n_domains']}: {stats['per_domain']}")
    lines.append(f"  sources: {stats['per_source']}")
    t = stats["trace_tokens"]
    lines.append(f"  trace tokens mean {t['mean']:.1f} (min {t['min']}, max {t['max']})")
    return "\n".join(lines)
