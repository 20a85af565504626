"""Loading candidate pools and benchmarks into s1x records.

The tiny world generates both; real pools and benchmarks load by hub id or
from a local file in the same public schema, through the same mapping.
"""

from __future__ import annotations

from pathlib import Path

from s1x.records import BenchmarkQuestion, PoolProblem
from s1x.world import tasks


def _rows_from(path: str, split: str = "train", config: str | None = None) -> list[dict]:
    """Rows of a local parquet/JSONL/JSON file or saved dataset dir, or of a hub dataset."""
    import datasets

    p = Path(path)
    if p.is_dir():
        ds = datasets.load_from_disk(str(p))
        ds = ds[split] if isinstance(ds, datasets.DatasetDict) else ds
    elif p.is_file():
        fmt = {".parquet": "parquet", ".jsonl": "json", ".json": "json"}.get(p.suffix)
        if fmt is None:
            raise ValueError(f"unsupported file type {p.suffix!r} for {path}: use .parquet, .jsonl or .json")
        ds = datasets.load_dataset(fmt, data_files=str(p), split="train")
    else:
        try:
            ds = datasets.load_dataset(path, config, split=split)
        except Exception as e:  # no network, gated dataset, wrong id: say which and why
            raise RuntimeError(f"could not load dataset {path!r} (config {config!r}, split {split!r}): {e}") from e
    return list(ds)


def data_version(cfg) -> int | None:
    """What, besides its config, identifies a pool's or benchmark's data in cache keys:
    the generator version for the tiny world; None for hub ids and files."""
    return tasks.WORLD_VERSION if cfg.kind == "tiny" else None


def tiny_pool(size: int, seed: int, choice_share: float, tokenizer) -> list[PoolProblem]:
    """The tiny world's candidate pool in the pool record schema."""
    out = []
    for p in tasks.generate(size, seed, choice_share=choice_share, split="train"):
        n_tokens = len(tokenizer(p.trace, add_special_tokens=False)["input_ids"])
        out.append(
            PoolProblem(
                id=p.id, question=p.question, solution=p.trace, answer=p.answer,
                source="tiny-choice" if p.choice else "tiny-free", domain=p.domain,
                trace=p.trace, attempt=p.answer,
                features={"trace_tokens": n_tokens, "n_items": p.n_items, "quality": {}},
            )
        )
    return out


def s1k_schema_pool(rows: list[dict], tokenizer) -> list[PoolProblem]:
    """Map rows in the s1K column schema (question, solution, cot_type, source_type,
    metadata, cot, thinking_trajectories, attempt) to pool records."""
    out = []
    for r in rows:
        trajectories = r.get("thinking_trajectories") or []
        trace = trajectories[0] if trajectories else ""
        out.append(
            PoolProblem(
                id=tasks.question_id(r["question"]), question=r["question"], solution=r.get("solution") or "",
                answer=r.get("solution") or "", source=r.get("source_type") or "", domain=r.get("domain") or "unknown",
                trace=trace, attempt=r.get("attempt") or "",
                features={"trace_tokens": len(tokenizer(trace, add_special_tokens=False)["input_ids"]) if trace else 0,
                          "quality": {"missing_trace": not trace}},
            )
        )
    return out


def load_pool(cfg, tokenizer) -> list[PoolProblem]:
    """The pool named by a ``pool`` config (tiny, hub id or local file)."""
    if cfg.kind == "tiny":
        return tiny_pool(cfg.size, cfg.seed, cfg.choice_share, tokenizer)
    if cfg.kind in ("hub", "file"):
        return s1k_schema_pool(_rows_from(cfg.path), tokenizer)
    raise ValueError(f"pool.kind={cfg.kind!r} is not one of: tiny, hub, file")


def _public_benchmark(rows: list[dict], name: str, grader: str) -> list[BenchmarkQuestion]:
    """Map MATH500/AIME (problem, answer) or GPQA (Question, Correct Answer) rows."""
    out = []
    for i, r in enumerate(rows):
        if "problem" in r:
            q, gold = r["problem"], str(r["answer"])
        elif "Question" in r:  # GPQA: options are shuffled per question in the grading issue
            q, gold = r["Question"], str(r["Correct Answer"])
        else:
            raise ValueError(f"benchmark {name}: row {i} has neither 'problem' nor 'Question': {sorted(r)}")
        out.append(BenchmarkQuestion(id=str(r.get("id", r.get("unique_id", i))), question=q, gold=gold, grader=grader))
    return out


def load_benchmark(cfg) -> list[BenchmarkQuestion]:
    """The questions of one ``benchmark`` config."""
    if cfg.kind == "tiny":
        problems = tasks.generate(cfg.size, cfg.seed, choice_share=1.0 if cfg.choice else 0.0,
                                  min_items=cfg.min_items, max_items=cfg.max_items, split="test")
        return [
            BenchmarkQuestion(id=p.id, question=p.question, gold=p.answer, grader=cfg.grader,
                              meta={"domain": p.domain, "n_items": p.n_items})
            for p in problems
        ]
    if cfg.kind in ("hub", "file"):
        rows = _rows_from(cfg.path, split=cfg.split, config=cfg.hub_config)
        qs = _public_benchmark(rows, cfg.name, cfg.grader)
        return qs[: cfg.size] if cfg.size else qs
    raise ValueError(f"benchmark.{cfg.name}.kind={cfg.kind!r} is not one of: tiny, hub, file")
