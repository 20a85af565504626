"""Content identity: what a file or a folder *is*, by its bytes, for cache keys and verification.

A file's identity is the SHA-256 of its bytes, read in chunks (a 64 GB
checkpoint never sits in memory). Hashing a large file on every run would cost
a minute a read, so a digest is remembered in a small memo file keyed by what
changes when the bytes change: device, inode, size and modification time in
nanoseconds. Editing, truncating or replacing a file changes at least one of
them; renaming (which is how cache entries appear) changes none, so a file
hashed while its entry was built is not hashed again when the entry is read.
Files up to ``rehash_below`` bytes are always re-read (cheap, and it catches a
flipped bit that kept its mtime).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CHUNK = 8 << 20
REHASH_BELOW = 256 << 20  # bytes: smaller files are hashed on every check


def _stat_token(st: os.stat_result) -> str:
    return f"{st.st_dev}-{st.st_ino}-{st.st_size}-{st.st_mtime_ns}"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class HashMemo:
    """Digests of files by (device, inode, size, mtime), one tiny file each under ``root``
    (no shared index to lock: SLURM jobs on a network filesystem can all use it)."""

    def __init__(self, root: Path | None, rehash_below: int = REHASH_BELOW):
        self.root = Path(root) if root is not None else None
        self.rehash_below = rehash_below

    def digest(self, path: Path, force: bool = False) -> str:
        """The file's SHA-256; from the memo when its stat is unchanged and it is large."""
        st = os.stat(path)
        memo = self.root / _stat_token(st) if self.root is not None else None
        if memo is not None and not force and st.st_size >= self.rehash_below:
            try:
                return memo.read_text().strip()
            except OSError:
                pass
        digest = file_sha256(path)
        if memo is not None and st.st_size >= self.rehash_below:
            self.remember(path, digest, st)
        return digest

    def remember(self, path: Path, digest: str, st: os.stat_result | None = None) -> None:
        """Record ``digest`` for the file as it is now (atomic write)."""
        if self.root is None:
            return
        st = st or os.stat(path)
        self.root.mkdir(parents=True, exist_ok=True)
        memo = self.root / _stat_token(st)
        tmp = memo.with_name(memo.name + f".tmp{os.getpid()}")
        tmp.write_text(digest)
        os.replace(tmp, memo)


def files_of(path: Path) -> list[Path]:
    """The files of a folder (recursively, sorted by relative path), or the file itself."""
    if path.is_file():
        return [path]
    return sorted((f for f in path.rglob("*") if f.is_file()), key=lambda f: f.relative_to(path).as_posix())


def content_identity(path: str | os.PathLike, memo: HashMemo | None = None) -> str:
    """The identity of a file or folder by its bytes: for a folder, the hash of every file's
    relative path and SHA-256 (so renaming or moving the folder keeps it, editing any byte
    changes it)."""
    p = Path(path)
    memo = memo or HashMemo(None)
    if p.is_file():
        return memo.digest(p)
    listing = [(f.relative_to(p).as_posix(), memo.digest(f)) for f in files_of(p)]
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()
