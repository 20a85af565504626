"""The tiny base model shipped inside the package, so a first run does not pretrain it.

``s1x/world/assets/pretrain/`` holds a complete pretrain-stage entry (the base
model, its probe checkpoints, the tokenizer, the training log) and
``manifest.json``: the stage cache key it was built under, a sha256 of every
file, a sha256 of the pretraining corpus, the training stats and the machine it
was built on. ``python -m s1x.world.build_assets`` writes it with the stage's
own pretraining; tests/world/test_shipped_base.py pretrains again and compares.

The pretrain stage installs the shipped entry on a cache miss only when the
key is the one the stage computes (so any change to the arch, the recipe, the
tokenizer or ``WORLD_VERSION`` pretrains as before), the corpus it would
pretrain on hashes the same (a changed generator without a version bump), and
every file matches its sha256 (a damaged or edited file). Otherwise it says
why in one line and pretrains.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets" / "pretrain"
MANIFEST = "manifest.json"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def corpus_sha256(texts: list[str]) -> str:
    """The identity of the pretraining corpus: every document exactly as the model reads it."""
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8"))
        h.update(b"\x1e")  # record separator: ["ab", "c"] and ["a", "bc"] differ
    return h.hexdigest()


def entry_files(entry: Path) -> list[str]:
    """The files of a pretrain entry that make the model (everything but the cache's own records,
    meta.json and the entry's manifest.json, which the cache writes after the build)."""
    records = {"meta.json", "manifest.json"}
    return sorted(str(p.relative_to(entry)) for p in entry.rglob("*")
                  if p.is_file() and str(p.relative_to(entry)) not in records)


def build_environment() -> dict:
    """What the float results of CPU pretraining depend on besides the code: library versions,
    the CPU and the kernel path torch dispatches to, the thread count."""
    import numpy
    import torch

    cpu, flags = platform.processor(), []
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        info = []
    for line in info:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
        elif line.startswith("flags"):
            # The vector units decide which kernels torch and MKL dispatch to.
            flags = sorted(f for f in line.split(":", 1)[1].split() if f.startswith(("avx", "fma", "amx", "sse")))
            break
    return {"torch": torch.__version__, "numpy": numpy.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "cpu": cpu, "cpu_flags": " ".join(flags),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads()}


def load_manifest(assets_dir: Path | None = None) -> dict | None:
    """The shipped entry's manifest, or None when the package has none."""
    path = Path(assets_dir or ASSETS_DIR) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


@dataclass(frozen=True)
class Install:
    """What :func:`install_shipped` did: ``meta`` for the cache entry when it installed, else why not.
    ``damaged`` marks a shipped entry for this very key that failed a check (worth a warning)."""

    meta: dict | None
    why: str = ""
    damaged: bool = False


def install_shipped(key: str, corpus_hash: str, dest: Path, assets_dir: Path | None = None) -> Install:
    """Copy the shipped entry (``ASSETS_DIR`` unless given) into ``dest`` if it is the entry for
    ``key`` and intact. Nothing is written to ``dest`` unless every check passed."""
    assets_dir = Path(assets_dir or ASSETS_DIR)
    manifest = load_manifest(assets_dir)
    if manifest is None:
        return Install(None, f"no shipped tiny base model in {assets_dir}")
    if manifest["key"] != key:
        return Install(None, f"no shipped model for this config (shipped: pretrain key {manifest['key']}, "
                             f"this config: {key})")
    if manifest["corpus_sha256"] != corpus_hash:
        return Install(None, "the pretraining corpus differs from the one the shipped model was trained on (the tiny "
                             "world's generator or text format changed without a WORLD_VERSION bump)", damaged=True)
    blobs = {}
    for rel, digest in manifest["files"].items():
        path = assets_dir / rel
        if not path.is_file():
            return Install(None, f"shipped file {path} is missing", damaged=True)
        blobs[rel] = path.read_bytes()
        found = sha256_bytes(blobs[rel])
        if found != digest:
            return Install(None, f"shipped file {path} fails its sha256 check (expected {digest[:16]}..., "
                                 f"found {found[:16]}...)", damaged=True)
    for rel, data in blobs.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    return Install({"installed_from": str(assets_dir), "built_with": manifest["built_with"], **manifest["stats"]})


def write_assets(entry: Path, key: str, corpus_hash: str, spec: dict, stats: dict, assets_dir: Path) -> dict:
    """Write the pretrain entry built in ``entry`` and its manifest to ``assets_dir`` (replaced whole)."""
    import shutil

    assets_dir = Path(assets_dir)
    staging = assets_dir.with_name(assets_dir.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    files = {}
    for rel in entry_files(entry):
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        data = (entry / rel).read_bytes()
        (staging / rel).write_bytes(data)
        files[rel] = sha256_bytes(data)
    manifest = {"stage": "pretrain", "key": key, "spec": spec, "corpus_sha256": corpus_hash, "files": files,
                "stats": stats, "built_with": build_environment(), "built_by": "python -m s1x.world.build_assets"}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(assets_dir, ignore_errors=True)
    staging.rename(assets_dir)
    return manifest
