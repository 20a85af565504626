"""Loading benchmarks into s1x records, and the row reader pools share (:mod:`s1x.pools`).

The tiny world generates its benchmarks; real ones load by hub id or from a
local file in the same public schema, through the same mapping.
"""

from __future__ import annotations

from pathlib import Path

from s1x.records import BenchmarkQuestion
from s1x.world import tasks


def rows_from(path: str, split: str = "train", config: str | None = None) -> list[dict]:
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
        rows = rows_from(cfg.path, split=cfg.split, config=cfg.hub_config)
        qs = _public_benchmark(rows, cfg.name, cfg.grader)
        return qs[: cfg.size] if cfg.size else qs
    raise ValueError(f"benchmark.{cfg.name}.kind={cfg.kind!r} is not one of: tiny, hub, file")
