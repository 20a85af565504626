"""Rows of a dataset given by hub id or local file, and what identifies that data in cache keys.

Shared by the two stages that read datasets: pools (:mod:`s1x.selection.pools`)
and benchmarks (:mod:`s1x.evaluate.benchmarks`). A local parquet/JSONL/JSON file
or saved dataset dir and a hub id go through the same mapping.
"""

from __future__ import annotations

from pathlib import Path

from s1x.cache import file_sha256
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
        except Exception as e:  # no network, gated dataset, wrong id: say which and what to do
            hint = ""
            if any(w in str(e).lower() for w in ("gated", "401", "403", "authenticated", "access")):
                hint = (" The dataset is gated: accept its terms on the hub and run `huggingface-cli login`, "
                        "or point the config at a local copy (kind=file, path=...).")
            raise RuntimeError(f"could not load dataset {path!r} (config {config!r}, split {split!r}): {e}.{hint}") from e
    return list(ds)


def data_version(cfg) -> int | str | None:
    """What, besides its config, identifies a pool's or benchmark's data in cache keys: the
    generator version for the tiny world, the content hash of a local file (an edited file is
    new data), None for hub ids and saved dataset dirs."""
    if cfg.kind == "tiny":
        return tasks.WORLD_VERSION
    if cfg.kind == "file" and cfg.path and Path(cfg.path).is_file():
        return file_sha256(cfg.path)
    return None
