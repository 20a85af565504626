"""Candidate pools in the pool record schema (DESIGN.md, Records).

- The tiny pool: generated problems, with planted duplicates and benchmark
  overlaps so the curation funnel has something real to find.
- The paper's pools by hub id (``simplescaling/data_ablation_full59K``,
  ``simplescaling/s1K``, ``simplescaling/s1K-1.1``) or the same columns in a
  local parquet/JSONL/JSON file or saved dataset dir, through one mapping.

Every record's id is the hash of its question text, whatever the source.
Feature columns a file carries (:mod:`s1x.selection.given`) are read here as
*given*; the featurize stage (:mod:`s1x.selection.featurize`) computes the rest.
"""

from __future__ import annotations

from s1x.records import PoolProblem, question_id
from s1x.data.rows import rows_from
from s1x.selection.given import given_columns, given_value
from s1x.errors import InputError
from s1x.world import tasks

# Columns of the s1K / data_ablation_full59K schema and of s1K-1.1.
S1K_TRACE, S1K_ATTEMPT = "thinking_trajectories", "attempt"
S1K11_PREFIXES = ("deepseek", "gemini")  # s1K-1.1: {prefix}_thinking_trajectory, {prefix}_attempt


def _first_text(value) -> str:
    """A trace column holds a string, or a list of strings of which s1 trains on the first."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else ""
    return str(value)


def s1k_schema_pool(rows: list[dict], trace_source: str = "auto", probes=()) -> list[PoolProblem]:
    """Map rows in the s1K column schema to pool records.

    Feature columns (:mod:`s1x.selection.given`; ``probes`` names the probe columns)
    become the records' features, and ``features['given']`` lists them.

    ``trace_source`` picks the trace columns: ``s1k`` (``thinking_trajectories``
    / ``attempt``, as in s1K and the 59K pool), ``deepseek`` or ``gemini``
    (s1K-1.1's ``{name}_thinking_trajectory`` / ``{name}_attempt``), or
    ``auto``: the first of those the rows have, deepseek before gemini (s1.1
    trains on the DeepSeek-R1 traces).
    """
    if not rows:
        return []
    columns = set(rows[0])
    if "question" not in columns:
        raise InputError(f"pool rows have no 'question' column (columns: {sorted(columns)}); "
                         "s1x reads the s1K schema: question, solution, source_type, thinking_trajectories, attempt")
    if trace_source == "auto":
        if S1K_TRACE in columns:
            trace_source = "s1k"
        else:
            trace_source = next((p for p in S1K11_PREFIXES if f"{p}_thinking_trajectory" in columns), "")
        if not trace_source:
            raise InputError(f"pool rows have no trace column (columns: {sorted(columns)}); expected "
                             f"'{S1K_TRACE}' or one of " + ", ".join(f"'{p}_thinking_trajectory'" for p in S1K11_PREFIXES))
    if trace_source == "s1k":
        trace_col, attempt_col = S1K_TRACE, S1K_ATTEMPT
    elif trace_source in S1K11_PREFIXES:
        trace_col, attempt_col = f"{trace_source}_thinking_trajectory", f"{trace_source}_attempt"
    else:
        raise ValueError(f"pool.trace_source={trace_source!r} is not one of: auto, s1k, {', '.join(S1K11_PREFIXES)}")
    given = given_columns(columns, probes)
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r.get("question"), str) or not r["question"].strip():
            raise InputError(f"pool row {i} has no question (got {r.get('question')!r}); fix or drop the row")
        solution = str(r.get("solution") or "")
        features = {"cot_type": r.get("cot_type")}
        if given:
            features["given"] = sorted(given)
            for feature, col in given.items():
                value = given_value(feature, r.get(col))
                if feature.startswith("probe:"):  # probe answers live under features['probes'][name]
                    features.setdefault("probes", {})[feature.split(":", 1)[1]] = value
                else:
                    features[feature] = value
        out.append(
            PoolProblem(
                id=question_id(r["question"]), question=r["question"], solution=solution, answer=solution,
                source=str(r.get("source_type") or ""), domain=str(r.get("domain") or ""),
                trace=_first_text(r.get(trace_col)), attempt=_first_text(r.get(attempt_col)),
                features=features,
            )
        )
    return out


def tiny_pool(size: int, seed: int, choice_share: float, plant_duplicates: int = 0,
              plant_overlaps: int = 0, overlap_seed: int = 3) -> list[PoolProblem]:
    """The tiny world's candidate pool, with planted faults for the curation funnel to find.

    ``plant_duplicates`` copies of pool questions (re-cased and re-spaced, so
    only normalisation reveals them) and ``plant_overlaps`` questions of the
    free-answer test split drawn with ``overlap_seed`` (the first questions of
    the ``tiny-mixed`` benchmark for its seed, 3): upper-cased, or (every
    other one with 8+ words) embedded in a longer question, so that only
    normalisation or an 8-gram match finds them. Planted records
    say so in ``features['planted']``.
    """
    problems = tasks.generate(size, seed, choice_share=choice_share, split="train")
    out = [_tiny_record(p, p.question, None) for p in problems]
    for i in range(plant_duplicates):
        p = problems[(i * 7919) % len(problems)]
        noisy = "  ".join(p.question.split(" "))
        out.append(_tiny_record(p, noisy[0].upper() + noisy[1:], "duplicate"))
    for i, p in enumerate(tasks.generate(plant_overlaps, overlap_seed, split="test")):
        long_enough = len(p.question.split()) >= 8  # an 8-gram can only match inside a text of 8+ words
        question = f"{p.question} exactly as stated" if i % 2 and long_enough else p.question.upper()
        out.append(_tiny_record(p, question, "overlap"))
    # Planted records come last: dedup keeps the first occurrence, so the originals survive.
    return out


def _tiny_record(p: tasks.Problem, question: str, planted: str | None) -> PoolProblem:
    features = {"n_items": p.n_items}
    if planted:
        features["planted"] = planted
    return PoolProblem(
        id=question_id(question), question=question, solution=p.trace, answer=p.answer,
        source="tiny-choice" if p.choice else "tiny-free", domain=p.domain,
        trace=p.trace, attempt=p.answer, features=features,
    )


def load_pool(cfg) -> list[PoolProblem]:
    """The pool named by a ``pool`` config (tiny, or hub id / local file in the s1K schema)."""
    if cfg.kind == "tiny":
        return tiny_pool(cfg.size, cfg.seed, cfg.choice_share, cfg.plant_duplicates, cfg.plant_overlaps, cfg.overlap_seed)
    if cfg.kind in ("hub", "file"):
        rows = rows_from(cfg.path, split=cfg.split)
        try:
            return s1k_schema_pool(rows, cfg.trace_source, cfg.featurize.probes)
        except InputError as e:
            raise InputError(f"{cfg.path}: {e}") from None
    raise ValueError(f"pool.kind={cfg.kind!r} is not one of: tiny, hub, file")
