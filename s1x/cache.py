"""The stage cache: every stage output stored under a key hashed from what determines it.

A key is the SHA-256 of canonical JSON of (stage name, stage version, the
stage's config, the keys of its inputs). An entry is built in a temporary
directory and renamed into place only when complete, so a job killed midway
(even by SIGKILL) never leaves an entry that looks finished. A per-key file
lock makes a second job that needs the same entry wait for the first instead
of computing it again; the lock is an OS lock (``fcntl``), released by the
kernel when its holder dies, so a killed job never blocks the next one.

Layout::

    <cache_dir>/<stage>/<key>/            complete entries (+ meta.json)
    <cache_dir>/<stage>/.tmp/<key>-<pid>-<rand>/   entries being built
    <cache_dir>/<stage>/.locks/<key>.lock
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from filelock import FileLock

log = logging.getLogger("s1x")


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-able object, independent of dict ordering."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's content, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    """A complete cache entry: where it lives, its key, and whether this call found it ready."""

    stage: str
    key: str
    path: Path
    cached: bool


class StageCache:
    """Content-addressed, atomically written, lock-guarded store of stage outputs."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(os.path.expanduser(str(root))).resolve()

    def key(self, stage: str, version: int, config: Any, inputs: dict[str, str] | None = None) -> str:
        """The key of a stage output from its version, config and input keys."""
        return stable_hash({"stage": stage, "version": version, "config": config, "inputs": inputs or {}})

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def lookup(self, stage: str, key: str) -> Entry | None:
        """The complete entry for ``key``, or None if it was never finished."""
        p = self.path(stage, key)
        return Entry(stage, key, p, True) if p.is_dir() else None

    def get_or_build(
        self,
        stage: str,
        key: str,
        build: Callable[[Path], dict | None],
        meta: dict | None = None,
    ) -> Entry:
        """Return the entry for ``key``, building it with ``build(tmp_dir)`` if absent.

        ``build`` writes everything into ``tmp_dir`` and may return a dict that is
        stored in ``meta.json`` with ``meta``. Only one process builds a key at a
        time; the others wait on the lock and then find the entry complete.
        """
        final = self.path(stage, key)
        if final.is_dir():
            return Entry(stage, key, final, True)
        locks, tmp_root = self.root / stage / ".locks", self.root / stage / ".tmp"
        locks.mkdir(parents=True, exist_ok=True)
        tmp_root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(locks / f"{key}.lock")):
            if final.is_dir():  # another job built it while we waited
                return Entry(stage, key, final, True)
            # Holding the lock, any temp dir of this key is debris of a killed builder.
            for stale in tmp_root.glob(f"{key}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = tmp_root / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            tmp.mkdir()
            t0 = time.time()
            try:
                produced = build(tmp) or {}
                record = {"stage": stage, "key": key, "build_time_s": time.time() - t0, **(meta or {}), **produced}
                (tmp / "meta.json").write_text(json.dumps(record, indent=2, default=str))
                os.rename(tmp, final)  # atomic on one filesystem: the entry appears complete or not at all
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return Entry(stage, key, final, False)

    def meta(self, entry: Entry) -> dict:
        """The ``meta.json`` a build wrote for ``entry``."""
        return json.loads((entry.path / "meta.json").read_text())


class StageRunner:
    """One pipeline run's view of the cache: builds or finds stage entries and keeps, per stage,
    the time spent and whether every entry it needed was already there (``results.json``)."""

    def __init__(self, cache: StageCache):
        self.cache = cache
        self.timings: dict[str, float] = {}
        self.cached: dict[str, bool] = {}

    def stage(self, name: str, key: str, build: Callable[[Path], dict | None], meta: dict | None = None) -> Entry:
        """The entry of stage ``name`` under ``key``, built with ``build`` if absent (see
        :meth:`StageCache.get_or_build`)."""
        t0 = time.time()
        entry = self.cache.get_or_build(name, key, build, meta)
        self.timings[name] = self.timings.get(name, 0.0) + time.time() - t0
        self.cached[name] = self.cached.get(name, True) and entry.cached
        log.info("[%s] %s in %.1f s (%s)", name, "cached" if entry.cached else "computed", time.time() - t0, entry.path)
        return entry
