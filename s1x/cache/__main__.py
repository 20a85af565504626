"""The stage cache for users: ``python -m s1x.cache verify|gc [--cache-dir DIR]``.

- ``verify``: check every entry's files against its manifest (sizes and SHA-256);
  exit 1 when one is wrong. ``--fix`` moves bad entries to ``.corrupt/`` so the
  next run rebuilds them.
- ``gc``: delete what no run needs: debris of killed builders (``.tmp/``), entries
  moved aside (``.corrupt/``), and with ``--partial`` the resumable state of
  unfinished builds (``.partial/``; a rerun of that config would have resumed it).
  Directories whose build lock is held by a running job are left alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from s1x.cache.store import StageCache

DEFAULT_DIR = os.environ.get("S1X_CACHE_DIR", "~/.cache/s1x")


def _entries(cache: StageCache):
    if not cache.root.is_dir():
        return
    for stage in sorted(p for p in cache.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for entry in sorted(p for p in stage.iterdir() if p.is_dir() and not p.name.startswith(".")):
            yield stage.name, entry


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _unlocked(stage_dir: Path, key: str) -> bool:
    """True when no running job holds this key's build lock."""
    lock = stage_dir / ".locks" / f"{key}.lock"
    if not lock.exists():
        return True
    try:
        with FileLock(str(lock), timeout=0):
            return True
    except Timeout:
        return False


def verify(cache: StageCache, fix: bool) -> int:
    """Print one line per bad entry; return how many there were."""
    bad = total = 0
    for stage, entry in _entries(cache):
        total += 1
        problems = cache.problems(entry, mode="full")
        if problems:
            bad += 1
            print(f"BAD {stage}/{entry.name}: " + "; ".join(problems[:3]) + (" ..." if len(problems) > 3 else ""))
            if fix:
                cache.on_corrupt = "rebuild"
                cache.lookup(stage, entry.name)  # moves it aside
    print(f"s1x.cache verify: {total} entries, {bad} bad" + (" (moved to .corrupt/)" if fix and bad else ""))
    return bad


def gc(cache: StageCache, partial: bool, dry_run: bool) -> int:
    """Delete debris; return the bytes freed (or that would be)."""
    freed = 0
    kinds = [".tmp", ".corrupt"] + ([".partial"] if partial else [])
    for stage_dir in sorted(p for p in cache.root.iterdir() if p.is_dir() and not p.name.startswith(".")) \
            if cache.root.is_dir() else []:
        for kind in kinds:
            for d in sorted((stage_dir / kind).glob("*")) if (stage_dir / kind).is_dir() else []:
                key = d.name.split("-")[0]
                if kind != ".corrupt" and not _unlocked(stage_dir, key):
                    print(f"skip {d} (a running job is building it)")
                    continue
                n = _size(d)
                freed += n
                print(f"{'would remove' if dry_run else 'remove'} {d} ({n / 1e6:.1f} MB)")
                if not dry_run:
                    shutil.rmtree(d, ignore_errors=True)
    print(f"s1x.cache gc: {freed / 1e6:.1f} MB {'to free' if dry_run else 'freed'}")
    return freed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m s1x.cache", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["verify", "gc"])
    ap.add_argument("--cache-dir", default=DEFAULT_DIR, help="the stage cache (default: $S1X_CACHE_DIR or ~/.cache/s1x)")
    ap.add_argument("--fix", action="store_true", help="verify: move bad entries aside so they are rebuilt")
    ap.add_argument("--partial", action="store_true", help="gc: also delete unfinished resumable builds")
    ap.add_argument("--dry-run", action="store_true", help="gc: only say what would be deleted")
    args = ap.parse_args(argv)
    cache = StageCache(args.cache_dir)
    if not cache.root.is_dir():
        print(f"s1x.cache: no cache at {cache.root} (set --cache-dir or S1X_CACHE_DIR)", file=sys.stderr)
        return 2
    if args.command == "verify":
        return 1 if verify(cache, args.fix) else 0
    gc(cache, args.partial, args.dry_run)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
