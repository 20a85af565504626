"""The stage cache: every stage output stored under a key hashed from what determines it.

A key is the SHA-256 of canonical JSON of (stage name, stage version, the
stage's config, the identities of its inputs). An entry is built in a
temporary directory and renamed into place only when complete, so a job killed
midway (even by SIGKILL) never leaves an entry that looks finished. A per-key
file lock makes a second job that needs the same entry wait for the first
instead of computing it again; the lock is an OS lock (``fcntl``), released by
the kernel when its holder dies, so a killed job never blocks the next one.

Every entry carries ``manifest.json``: the size and SHA-256 of each of its
files at build time. Reading an entry checks it (:mod:`s1x.cache.identity`
keeps large files from being re-read when their stat is unchanged); an entry
whose files changed (a flipped byte, a truncated checkpoint, a deleted file) is
moved aside to ``.corrupt/`` and rebuilt, or refused with the command that
deletes it (``on_corrupt``). An entry's *digest* (the hash of its manifest) is
what later stages key on, so a rebuilt entry with other bytes invalidates
everything computed from it.

Resumable stages build in ``.partial/<key>/``, which survives a kill: the next
builder finds what the last one finished (SFT checkpoints, probe batches,
evaluation cells) and goes on from there.

Layout::

    <cache_dir>/<stage>/<key>/                     complete entries (+ meta.json, manifest.json)
    <cache_dir>/<stage>/.tmp/<key>-<pid>-<rand>/   entries being built
    <cache_dir>/<stage>/.partial/<key>/            resumable entries being built
    <cache_dir>/<stage>/.corrupt/<key>-<time>/     entries that failed verification
    <cache_dir>/<stage>/.locks/<key>.lock
    <cache_dir>/.hashes/                           digests of large files (s1x.cache.identity)
"""

from __future__ import annotations

import fnmatch
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

from s1x.cache.identity import HashMemo, file_sha256, files_of

log = logging.getLogger("s1x")

MANIFEST, META = "manifest.json", "meta.json"
VERIFY_MODES = ("full", "size", "off")
ON_CORRUPT = ("rebuild", "fail")


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-able object, independent of dict ordering."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]


class CorruptEntryError(RuntimeError):
    """A cache entry whose files no longer match its manifest, with ``on_corrupt=fail``."""


@dataclass(frozen=True)
class Entry:
    """A complete cache entry: where it lives, its key, whether this call found it ready, and
    its content digest (what stages that read it put in their keys)."""

    stage: str
    key: str
    path: Path
    cached: bool
    digest: str = ""


def _manifest_digest(files: dict[str, dict], volatile: tuple[str, ...] = ()) -> str:
    """The identity of an entry's content: its files' paths and hashes, leaving out meta.json and
    the ``volatile`` patterns (logs with timings), so an identical rebuild has the same digest."""
    content = sorted((rel, f["sha256"]) for rel, f in files.items()
                     if rel != META and not any(fnmatch.fnmatch(rel, v) for v in volatile))
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]


def entry_digest(path: str | os.PathLike, memo: HashMemo | None = None) -> str | None:
    """The digest a directory copied from (or still in) the stage cache has for its current
    bytes, computed as the cache computes an entry's digest, so ``model=<an sft entry or its
    copy>`` names the checkpoint the pipeline's own later stages name; None without a
    readable ``manifest.json``. The manifest only says which files are volatile: every
    file is hashed again, so an edited copy gets another digest."""
    path = Path(path)
    try:
        volatile = tuple(json.loads((path / MANIFEST).read_text())["volatile"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    files = {f.relative_to(path).as_posix(): {"sha256": memo.digest(f) if memo else file_sha256(f)}
             for f in files_of(path) if f.relative_to(path).as_posix() != MANIFEST}
    return _manifest_digest(files, volatile)


class StageCache:
    """Content-addressed, atomically written, lock-guarded, verified store of stage outputs."""

    def __init__(self, root: str | os.PathLike, verify: str = "full", on_corrupt: str = "rebuild"):
        if verify not in VERIFY_MODES:
            raise ValueError(f"cache verify={verify!r}: must be one of {VERIFY_MODES}")
        if on_corrupt not in ON_CORRUPT:
            raise ValueError(f"cache on_corrupt={on_corrupt!r}: must be one of {ON_CORRUPT}")
        self.root = Path(os.path.expanduser(str(root))).resolve()
        self.verify_mode = verify
        self.on_corrupt = on_corrupt
        self.memo = HashMemo(self.root / ".hashes")

    def key(self, stage: str, version: int, config: Any, inputs: dict[str, str] | None = None) -> str:
        """The key of a stage output from its version, config and input identities."""
        return stable_hash({"stage": stage, "version": version, "config": config, "inputs": inputs or {}})

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    # --- verification ------------------------------------------------------------------

    def write_manifest(self, path: Path, volatile: tuple[str, ...] = ()) -> dict:
        """Hash every file of an entry being built and write ``manifest.json``; returns it.
        Files matching ``volatile`` are verified like the others but not part of the digest."""
        files = {}
        for f in files_of(path):
            rel = f.relative_to(path).as_posix()
            if rel == MANIFEST:
                continue
            digest = self.memo.digest(f, force=True)
            files[rel] = {"size": f.stat().st_size, "sha256": digest}
        manifest = {"files": files, "volatile": list(volatile), "digest": _manifest_digest(files, volatile)}
        tmp = path / f"{MANIFEST}.tmp{os.getpid()}"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, path / MANIFEST)
        return manifest

    def problems(self, path: Path, mode: str | None = None) -> list[str]:
        """What is wrong with the entry at ``path`` (empty when it matches its manifest)."""
        mode = mode or self.verify_mode
        try:
            manifest = json.loads((path / MANIFEST).read_text())
            files = manifest["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return [f"{MANIFEST} missing or unreadable (written by an older s1x, or damaged)"]
        if mode == "off":
            return []
        out = []
        present = {f.relative_to(path).as_posix() for f in files_of(path)} - {MANIFEST}
        for rel in sorted(set(files) - present):
            out.append(f"{rel}: missing")
        for rel in sorted(present - set(files)):
            out.append(f"{rel}: not in the manifest")
        for rel in sorted(set(files) & present):
            f, want = path / rel, files[rel]
            size = f.stat().st_size
            if size != want["size"]:
                out.append(f"{rel}: {size} bytes, built with {want['size']} (truncated or rewritten)")
            elif mode == "full" and self.memo.digest(f) != want["sha256"]:
                out.append(f"{rel}: bytes changed since the build (sha256 differs)")
        return out

    def _digest_of(self, path: Path) -> str:
        return json.loads((path / MANIFEST).read_text())["digest"]

    def _checked(self, stage: str, key: str) -> Entry | None:
        """The complete entry if it exists and verifies; a corrupt one is moved aside (or refused)."""
        final = self.path(stage, key)
        if not final.is_dir():
            return None
        if not (final / MANIFEST).exists() and (final / META).exists():
            # Built by an s1x without manifests: adopt it as it is (rebuilding every old SFT
            # checkpoint would cost hours); from now on it is verified.
            log.warning("s1x: cache entry %s/%s has no manifest (an older s1x built it); recording its files as they are",
                        stage, key)
            self.write_manifest(final)
        bad = self.problems(final)
        if not bad:
            return Entry(stage, key, final, True, self._digest_of(final))
        if self.on_corrupt == "fail":
            raise CorruptEntryError(f"cache entry {final} is corrupt ({bad[0]}); delete it to rebuild: rm -r {final} "
                                    "(or check them all: python -m s1x.cache verify)")
        aside = self.root / stage / ".corrupt" / f"{key}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(final, aside)
        except FileNotFoundError:  # another job moved it first
            return None
        log.warning("s1x: cache entry %s/%s failed verification (%s); moved to %s and rebuilding",
                    stage, key, bad[0], aside)
        return None

    # --- reading and building ----------------------------------------------------------------

    def lookup(self, stage: str, key: str) -> Entry | None:
        """The complete, verified entry for ``key``, or None if there is none (or it was corrupt)."""
        return self._checked(stage, key)

    def get_or_build(
        self,
        stage: str,
        key: str,
        build: Callable[[Path], dict | None],
        meta: dict | None = None,
        resumable: bool = False,
        volatile: tuple[str, ...] = (),
    ) -> Entry:
        """Return the entry for ``key``, building it with ``build(dir)`` if absent or corrupt.

        ``build`` writes everything into ``dir`` and may return a dict that is stored in
        ``meta.json`` with ``meta``. Only one process builds a key at a time; the others wait
        on the lock and then find the entry complete. With ``resumable`` the build dir is
        ``.partial/<key>/`` and keeps what a killed or failed build left there, for the next
        build to go on from. ``volatile``: file patterns left out of the entry's digest (logs
        with timings), so a rebuild with identical results keeps its identity."""
        found = self._checked(stage, key)
        if found is not None:
            return found
        locks = self.root / stage / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(str(locks / f"{key}.lock")):
            found = self._checked(stage, key)
            if found is not None:  # another job built it while we waited
                return found
            if resumable:
                work = self.root / stage / ".partial" / key
                work.mkdir(parents=True, exist_ok=True)
                for leftover in (MANIFEST, META):  # a build killed between these writes and the rename
                    (work / leftover).unlink(missing_ok=True)
            else:
                tmp_root = self.root / stage / ".tmp"
                tmp_root.mkdir(parents=True, exist_ok=True)
                # Holding the lock, any temp dir of this key is debris of a killed builder.
                for stale in tmp_root.glob(f"{key}-*"):
                    shutil.rmtree(stale, ignore_errors=True)
                work = tmp_root / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                work.mkdir()
            final = self.path(stage, key)
            t0 = time.time()
            try:
                produced = build(work) or {}
                record = {"stage": stage, "key": key, "build_time_s": time.time() - t0, **(meta or {}), **produced}
                (work / META).write_text(json.dumps(record, indent=2, default=str))
                manifest = self.write_manifest(work, tuple(volatile))
                os.rename(work, final)  # atomic on one filesystem: the entry appears complete or not at all
            except BaseException:
                if not resumable:
                    shutil.rmtree(work, ignore_errors=True)
                raise
        return Entry(stage, key, final, False, manifest["digest"])

    def meta(self, entry: Entry) -> dict:
        """The ``meta.json`` a build wrote for ``entry``."""
        return json.loads((entry.path / META).read_text())


class StageRunner:
    """One pipeline run's view of the cache: builds or finds stage entries and keeps, per stage,
    the time spent and whether every entry it needed was already there (``results.json``)."""

    def __init__(self, cache: StageCache):
        self.cache = cache
        self.timings: dict[str, float] = {}
        self.cached: dict[str, bool] = {}

    def stage(self, name: str, key: str, build: Callable[[Path], dict | None], meta: dict | None = None,
              resumable: bool = False, volatile: tuple[str, ...] = ()) -> Entry:
        """The entry of stage ``name`` under ``key``, built with ``build`` if absent (see
        :meth:`StageCache.get_or_build`)."""
        t0 = time.time()
        entry = self.cache.get_or_build(name, key, build, meta, resumable=resumable, volatile=volatile)
        self.timings[name] = self.timings.get(name, 0.0) + time.time() - t0
        self.cached[name] = self.cached.get(name, True) and entry.cached
        log.info("[%s] %s in %.1f s (%s)", name, "cached" if entry.cached else "computed", time.time() - t0, entry.path)
        return entry
