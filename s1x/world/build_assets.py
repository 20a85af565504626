"""Build the tiny base model the package ships: ``python -m s1x.world.build_assets [--check]``.

Pretrains the default tiny base model (conf/ as composed with no overrides)
from scratch with the pretrain stage's own code, on this CPU, and writes the
entry and its manifest (key, sha256 of every file, corpus hash, build machine)
to ``s1x/world/assets/pretrain/``. Run it, and commit the result, after any
change that moves the default pretrain key (``model.arch``, ``model.pretrain``,
the tiny tokenizer, ``WORLD_VERSION``, ``PRETRAIN_VERSION``) or the pretraining
code; tests/world/test_shipped_base.py fails until the shipped entry matches again.
``--check`` pretrains and compares with the shipped entry without writing (bit for bit on
the build's kernel path; elsewhere the final losses, see :func:`check`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from s1x.progress import quiet_library_bars
from s1x.world.shipped_assets import ASSETS_DIR, build_environment, entry_files, load_manifest, sha256_bytes, write_assets

CONF_DIR = Path(__file__).resolve().parent.parent.parent / "conf"
# Written per build, not part of the model: the log's wall-clock column, the library version in config.json.
VOLATILE_FIELDS = ("time_s", "transformers_version")
# What decides the bits of CPU float results besides the code: the torch build and the CPU (its
# model and vector units decide which ATen and MKL kernels run, and so the order of every float
# sum). Not the thread count at these tensor sizes: the shipped entry, built with 1 thread,
# equals byte for byte one pretrained with torch's default 2 threads in another process.
KERNEL_FIELDS = ("torch", "machine", "cpu", "cpu_flags", "cpu_capability")
# Another kernel path orders float sums differently, and 1,600 steps of training grow that
# last-bit difference into another model of the same quality: with ATEN_CPU_CAPABILITY=avx2 on
# the build machine every weight tensor differed (largest gap 0.47), single logged losses by up
# to 16%, and the mean of the last 10 logged losses (steps 1150-1600) by 2.0%. There only that
# mean is compared, within 5x the measured gap.
LAST_LOSSES, LOSS_TOLERANCE = 10, 0.10


def default_config():
    """The composed default config (what ``python -m s1x.run`` runs)."""
    from hydra import compose, initialize_config_dir

    from s1x.config import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config")


def build_default_entry(out: Path, cfg=None) -> tuple[str, str, dict, dict]:
    """Pretrain the default tiny base model into ``out``; return (key, corpus hash, spec, stats)."""
    from s1x.cache import StageCache, StageRunner
    from s1x.world.stage import pretrain_into, pretrain_key, pretrain_spec, pretraining_corpus, tiny_tokenizer

    cfg = cfg if cfg is not None else default_config()
    tokenizer, tok_id = tiny_tokenizer()
    key = pretrain_key(cfg, StageRunner(StageCache(out)), tok_id)
    corpus, corpus_hash = pretraining_corpus(cfg.model.pretrain, tokenizer)
    stats = pretrain_into(cfg, tokenizer, corpus, out)
    return key, corpus_hash, pretrain_spec(cfg), stats


def _without_volatile(text: str, jsonl: bool) -> list:
    rows = [json.loads(line) for line in text.splitlines() if line.strip()] if jsonl else [json.loads(text)]
    return [{k: v for k, v in r.items() if k not in VOLATILE_FIELDS} if isinstance(r, dict) else r for r in rows]


def differences(built: Path, assets_dir: Path | None = None) -> list[str]:
    """How a freshly built entry differs from the shipped one: weights bit for bit (with the largest
    absolute difference when they differ), JSON files up to their volatile fields, the rest byte for byte."""
    assets_dir = Path(assets_dir or ASSETS_DIR)
    manifest = load_manifest(assets_dir)
    if manifest is None:
        return [f"no manifest in {assets_dir}"]
    out = []
    built_files = set(entry_files(built))
    if built_files != set(manifest["files"]):
        out.append(f"files differ: built only {sorted(built_files - set(manifest['files']))}, "
                   f"shipped only {sorted(set(manifest['files']) - built_files)}")
    for rel in sorted(built_files & set(manifest["files"])):
        data = (built / rel).read_bytes()
        if sha256_bytes(data) == manifest["files"][rel]:
            continue
        if rel.endswith(".safetensors"):
            out.append(f"{rel}: {_weight_gap(built / rel, assets_dir / rel)}")
        elif rel.endswith((".json", ".jsonl")):
            jsonl = rel.endswith(".jsonl")
            if _without_volatile(data.decode(), jsonl) != _without_volatile((assets_dir / rel).read_text(), jsonl):
                out.append(f"{rel}: contents differ")
        else:
            out.append(f"{rel}: bytes differ")
    return out


def check(built: Path, key: str, assets_dir: Path | None = None) -> tuple[bool, list[str]]:
    """Compare a freshly pretrained default entry with the shipped one: bit for bit on the build's
    kernel path (:data:`KERNEL_FIELDS`), else the mean of the last logged losses. Returns
    (agrees, report lines)."""
    assets_dir = Path(assets_dir or ASSETS_DIR)
    manifest = load_manifest(assets_dir) or {}
    if manifest.get("key") != key:
        return False, [f"shipped key {manifest.get('key')} != default pretrain key {key}"]
    here = build_environment()
    if all(here.get(k) == manifest["built_with"].get(k) for k in KERNEL_FIELDS):
        diff = differences(built, assets_dir)
        return not diff, diff or [f"identical to the shipped entry in {assets_dir} (key {key})"]
    other = ", ".join(f"{k}={here.get(k)!r}" for k in KERNEL_FIELDS if here.get(k) != manifest["built_with"].get(k))
    ours, theirs = ([json.loads(x) for x in (d / "pretrain_log.jsonl").read_text().splitlines()]
                    for d in (built, assets_dir))
    if [r["step"] for r in ours] != [r["step"] for r in theirs]:
        return False, [f"another kernel path ({other}) and another loss log: steps differ"]
    mean_ours, mean_theirs = (sum(r["loss"] for r in log[-LAST_LOSSES:]) / LAST_LOSSES for log in (ours, theirs))
    gap = abs(mean_ours - mean_theirs) / mean_theirs
    return gap <= LOSS_TOLERANCE, [
        f"another kernel path than the build's ({other}): weights are not comparable bit for bit; mean of "
        f"the last {LAST_LOSSES} logged losses {mean_ours:.4f} vs shipped {mean_theirs:.4f} "
        f"({100 * gap:.1f}%, tolerance {100 * LOSS_TOLERANCE:.0f}%)"]


def _weight_gap(a: Path, b: Path) -> str:
    from safetensors.torch import load_file

    ta, tb = load_file(str(a)), load_file(str(b))
    if set(ta) != set(tb):
        return "different tensor names"
    gap = max(float((ta[k].double() - tb[k].double()).abs().max()) for k in ta)
    return f"weights differ (largest absolute difference {gap:.3g})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m s1x.world.build_assets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="pretrain and compare with the shipped entry; write nothing")
    ap.add_argument("--out", type=Path, default=ASSETS_DIR, help="where to write (default: the package's assets)")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's; the bits do not depend on "
                    "it, and 1 is far faster on a CPU shared with other jobs)")
    args = ap.parse_args(argv)
    quiet_library_bars()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        key, corpus_hash, spec, stats = build_default_entry(Path(tmp))
        if args.check:
            agrees, report = check(Path(tmp), key, args.out)
            print("\n".join(report))
            return 0 if agrees else 1
        manifest = write_assets(Path(tmp), key, corpus_hash, spec, stats, args.out)
    size = sum((args.out / rel).stat().st_size for rel in manifest["files"])
    print(f"wrote {len(manifest['files'])} files ({size / 1e6:.1f} MB) and {args.out / 'manifest.json'} "
          f"(pretrain key {key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
