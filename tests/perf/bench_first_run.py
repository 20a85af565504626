"""A new user's first run: ``python -m s1x.run`` from an empty cache (the shipped base model is
installed) against the same command with ``model.pretrain.from_scratch=true`` (pretrained here),
both measured in this run of the script, then the fully cached rerun (target: cold <= 40% of
from-scratch, with the same metrics).

    python tests/perf/bench_first_run.py [--keep DIR]

Each run gets its own empty stage cache and writes its output to files, as a SLURM job would.
The box may be shared: the load average is printed beside each time, and only a ratio of two
runs measured minutes apart is meaningful.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
METRICS = ("benchmark", "method", "budget", "n", "accuracy", "mean_thinking_tokens", "max_thinking_tokens",
           "within_budget_rate")


def run(name: str, args: list[str], cache: Path, work: Path) -> dict:
    """One ``python -m s1x.run`` in a fresh process: wall time, load around it, its results."""
    env = {**os.environ, "S1X_CACHE_DIR": str(cache)}
    run_dir = work / name
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(work / f"{name}.out", "w") as out, open(work / f"{name}.err", "w") as err:
        proc = subprocess.run([sys.executable, "-m", "s1x.run", *args, f"hydra.run.dir={run_dir}"], cwd=ROOT,
                              env=env, stdout=out, stderr=err)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{name} failed ({proc.returncode}); see {work / f'{name}.err'}")
    results = json.loads((run_dir / "results.json").read_text())
    log_bytes = (work / f"{name}.out").stat().st_size + (work / f"{name}.err").stat().st_size
    return {"wall_s": wall, "load": (load_before, os.getloadavg()[0]), "results": results, "log_bytes": log_bytes}


def base_weights_sha(cache: Path) -> str:
    entry = next(p for p in (cache / "pretrain").iterdir() if not p.name.startswith("."))
    return hashlib.sha256((entry / "model.safetensors").read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="keep caches, run dirs and logs here (default: a temp dir, removed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()}; "
              f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
        cold = run("cold", [], work / "cache-cold", work)
        scratch = run("from_scratch", ["model.pretrain.from_scratch=true"], work / "cache-scratch", work)
        cached = run("cached", [], work / "cache-cold", work)
        for name, r in (("cold (shipped base installed)", cold), ("cold, model.pretrain.from_scratch=true", scratch),
                        ("fully cached rerun", cached)):
            t = r["results"]["timings_s"]
            print(f"{name:40s} {r['wall_s']:7.1f} s  (load {r['load'][0]:.1f} -> {r['load'][1]:.1f}; "
                  f"pretrain {t['pretrain']:.1f} s, probe {t['probe']:.1f} s, sft {t['sft']:.1f} s, "
                  f"evaluate {t['evaluate']:.1f} s; log {r['log_bytes'] / 1000:.1f} KB)")
        ratio = cold["wall_s"] / scratch["wall_s"]
        print(f"cold / from-scratch: {ratio:.2f} (target <= 0.40)")
        rows = {name: [tuple(row[k] for k in METRICS) for row in r["results"]["results"]]
                for name, r in (("cold", cold), ("from_scratch", scratch), ("cached", cached))}
        same = rows["cold"] == rows["from_scratch"] == rows["cached"]
        print(f"same metrics in all three runs: {same}")
        print(f"from-scratch base weights equal the shipped ones: "
              f"{base_weights_sha(work / 'cache-cold') == base_weights_sha(work / 'cache-scratch')}")
        if not same:
            for a, b in zip(rows["cold"], rows["from_scratch"]):
                if a != b:
                    print(f"  cold {a}\n  from_scratch {b}")
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
