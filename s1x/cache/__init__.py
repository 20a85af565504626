"""The stage cache (core): keys, verified atomic entries, content identities, and its CLI.

``python -m s1x.cache verify|gc`` checks every entry against its manifest and
clears debris (:mod:`s1x.cache.__main__`).
"""

from s1x.cache.identity import HashMemo, content_identity, file_sha256
from s1x.cache.store import CorruptEntryError, Entry, StageCache, StageRunner, stable_hash

__all__ = ["CorruptEntryError", "Entry", "HashMemo", "StageCache", "StageRunner", "content_identity", "file_sha256",
           "stable_hash"]
