"""Rows of a dataset given by hub id or local file, and what identifies that data in cache keys.

Shared by the two stages that read datasets: pools (:mod:`s1x.selection.pools`)
and benchmarks (:mod:`s1x.data.benchmarks`). A local parquet/JSONL/JSON file
or saved dataset dir and a hub id go through the same mapping.
"""

from __future__ import annotations

from pathlib import Path

from s1x.cache.identity import HashMemo, content_identity
from s1x.errors import InputError
from s1x.world import tasks


# Where a pool's or benchmark's rows come from: the tiny world's generator, a hub id, or a local file.
DATA_KINDS = ("tiny", "hub", "file")


def check_data_path(key: str, kind: str, path: str | None) -> None:
    """A ``kind=file`` dataset's path must exist (checked before any stage runs)."""
    if kind == "file" and path and not Path(path).expanduser().exists():
        raise InputError(f"{key}={path!r}: no such file or directory; give a local parquet/JSONL/JSON file "
                         "or saved dataset dir (kind=hub for a hub id)")


def _jsonl_rows(p: Path) -> list[dict]:
    """A JSONL file's rows; a broken line is named by its number (a truncated last line included)."""
    import json

    rows = []
    with open(p, encoding="utf-8", errors="strict") as f:
        try:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    raise InputError(f"{p} line {n}: not valid JSON ({e.msg} at column {e.colno}); "
                                     "fix or delete that line") from None
                if not isinstance(row, dict):
                    raise InputError(f"{p} line {n}: a JSON {type(row).__name__}, not an object with named fields")
                rows.append(row)
        except UnicodeDecodeError as e:
            raise InputError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from None
    return rows


def rows_from(path: str, split: str = "train", config: str | None = None) -> list[dict]:
    """Rows of a local parquet/JSONL/JSON file or saved dataset dir, or of a hub dataset.

    A local file that cannot be read raises :class:`~s1x.errors.InputError` naming the
    file (and the line, for JSONL); an empty one too."""
    p = Path(path).expanduser()
    if p.is_dir():
        import datasets

        try:
            ds = datasets.load_from_disk(str(p))
        except Exception as e:
            raise InputError(f"{p}: not a saved dataset dir ({type(e).__name__}: {e}); "
                             "save it with Dataset.save_to_disk or give a parquet/JSONL file") from None
        ds = ds[split] if isinstance(ds, datasets.DatasetDict) else ds
        rows = list(ds)
    elif p.is_file():
        fmt = {".parquet": "parquet", ".jsonl": "jsonl", ".json": "json"}.get(p.suffix)
        if fmt is None:
            raise InputError(f"{p}: unsupported file type {p.suffix!r}; use .parquet, .jsonl or .json")
        if fmt == "jsonl":
            rows = _jsonl_rows(p)
        else:
            import datasets

            try:
                rows = list(datasets.load_dataset(fmt, data_files=str(p), split="train"))
            except Exception as e:
                raise InputError(f"{p}: could not be read as {fmt} ({type(e).__name__}: {str(e)[:200]})") from None
    else:
        import datasets

        try:
            ds = datasets.load_dataset(path, config, split=split)
        except Exception as e:  # no network, gated dataset, wrong id: say which and what to do
            hint = ""
            if any(w in str(e).lower() for w in ("gated", "401", "403", "authenticated", "access")):
                hint = (" The dataset is gated: accept its terms on the hub and run `huggingface-cli login`, "
                        "or point the config at a local copy (kind=file, path=...).")
            raise InputError(f"could not load dataset {path!r} (config {config!r}, split {split!r}): "
                             f"{str(e)[:300]}.{hint}") from None
        rows = list(ds)
    if not rows:
        raise InputError(f"{path}: no rows; give a file with at least one row")
    return rows


def without_located_path(spec: dict, version) -> dict:
    """A pool's or benchmark's config as a cache key sees it: where a local file is does not
    matter once its bytes identify it (``version`` is their hash), so its ``path`` is left out
    and a moved or copied file keeps its entries."""
    return {k: v for k, v in spec.items() if k != "path"} if isinstance(version, str) else dict(spec)


def data_version(cfg, memo: HashMemo | None = None) -> int | str | None:
    """What, besides its config, identifies a pool's or benchmark's data in cache keys: the
    generator version for the tiny world; for a local file or saved dataset dir, the hash of
    its bytes (edit the file and everything computed from it is recomputed); None for a hub
    id (its config names it)."""
    if cfg.kind == "tiny":
        return tasks.WORLD_VERSION
    if cfg.path and Path(cfg.path).expanduser().exists():
        return content_identity(Path(cfg.path).expanduser(), memo)
    return None
