"""The s1 effect on SmolLM2 as a benchmark: the full ``setting=smol-scaling`` run, its report, and
SFT throughput of s1x against a plain ``transformers`` Trainer loop on the same data.

    python tests/perf/bench_smol_scaling.py [--cache-dir DIR] [--run-dir DIR] [--steps 4] [--repeats 2] [--no-run]

1. ``python -m s1x.run setting=smol-scaling`` in ``--run-dir`` with the stage cache ``--cache-dir``
   (cold when that cache is new): its wall time, then an identical rerun's (all cached), then
   ``python -m s1x.analysis scaling`` of the run dir (the rise with its CI, Wait x2, Scaling).
2. SFT tokens/s on the run's selected examples, the same base model, batch, learning rate and
   precision, ``--steps`` optimizer steps each, ``--repeats`` times per arm in ABBA order,
   medians compared: s1x's
   ``run_sft`` (completion-only labels, per-sequence loss, its callbacks and checkpoint handling)
   against a plain ``transformers.Trainer`` with its default token-mean loss and a padding collator.
   Tokens/s count the non-padding tokens of the batches trained; the ratio is what to compare
   (the machine is shared: absolute numbers move from run to run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import compose_config  # noqa: E402


def timed_run(args: list[str], cache_dir: Path) -> float:
    """``python -m s1x.run`` as a user types it; its wall time in seconds (raises when it fails)."""
    t = time.time()
    subprocess.run([sys.executable, "-m", "s1x.run", *args, f"paths.cache_dir={cache_dir}"], cwd=ROOT, check=True)
    return time.time() - t


def plain_trainer_tokens_per_s(examples, base_model: str, tokenizer, sft_cfg, steps: int, seed: int) -> float:
    """A plain transformers Trainer on ``examples`` (the same ids and labels): tokens/s of ``steps`` steps."""
    import torch
    from torch.utils.data import Dataset
    from transformers import AutoModelForCausalLM, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from s1x.sft.precision import autocast_bf16, load_dtype

    class Rows(Dataset):
        def __len__(self):
            return len(examples)

        def __getitem__(self, i):
            return {"input_ids": examples[i].input_ids, "labels": examples[i].labels}

    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=getattr(torch, load_dtype(sft_cfg.precision)))
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, learning_rate=sft_cfg.lr, max_steps=steps,
                                 per_device_train_batch_size=sft_cfg.per_device_batch_size,
                                 bf16=autocast_bf16(sft_cfg.precision), use_cpu=not torch.cuda.is_available(),
                                 save_strategy="no", report_to=[], seed=seed, disable_tqdm=True, logging_steps=steps)
        trainer = Trainer(model=model, args=args, train_dataset=Rows(),
                          data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True))
        t = time.time()
        trainer.train()
        seconds = time.time() - t
    return steps * sft_cfg.per_device_batch_size * _mean_tokens(examples) / seconds


def _mean_tokens(examples) -> float:
    return sum(len(e.input_ids) for e in examples) / len(examples)


def s1x_tokens_per_s(selected, examples, base_model: str, tokenizer, sft_cfg, steps: int, seed: int) -> float:
    """s1x's run_sft on the first ``steps`` batches of ``selected``: tokens/s of its training loop."""
    from omegaconf import OmegaConf

    from s1x.sft.train import run_sft

    cfg = OmegaConf.merge(sft_cfg, {"epochs": 1, "logging_steps": steps})
    n = steps * sft_cfg.global_batch_size
    with tempfile.TemporaryDirectory() as out:
        stats = run_sft(selected[:n], base_model, tokenizer, cfg, Path(out), seed)
    return n * _mean_tokens(examples[:n]) / stats["train_time_s"]


def sft_throughput(run_dir: Path, cache_dir: Path, steps: int, repeats: int) -> None:
    import torch

    from s1x.models import load_tokenizer
    from s1x.models.source import resolve_model
    from s1x.records import read_jsonl
    from s1x.sft.train import encode_selected

    cfg = compose_config(["setting=smol-scaling", f"paths.cache_dir={cache_dir}"])
    base = resolve_model(cfg.model, cfg.paths.cache_dir).path
    tokenizer = load_tokenizer(base)
    selected = read_jsonl(run_dir / "selection.jsonl")
    n = steps * cfg.sft.global_batch_size
    if len(selected) < n:
        raise SystemExit(f"{run_dir}/selection.jsonl has {len(selected)} examples; --steps {steps} needs {n}")
    examples, _ = encode_selected(selected[:n], tokenizer, cfg.sft)
    print(f"SFT throughput: {steps} steps x {cfg.sft.global_batch_size} examples (mean {_mean_tokens(examples):.0f} "
          f"tokens), {cfg.sft.precision}, {torch.get_num_threads()} threads")
    # ABBA order, repeated: the first training in a process also pays one-off costs (kernel
    # selection, allocator growth), and a shared machine drifts; each arm runs first as often as last.
    measured: dict[str, list[float]] = {"s1x": [], "plain": []}
    for r in range(repeats):
        for arm in (("s1x", "plain") if r % 2 == 0 else ("plain", "s1x")):
            if arm == "s1x":
                measured[arm].append(s1x_tokens_per_s(selected, examples, base, tokenizer, cfg.sft, steps, cfg.seed))
            else:
                measured[arm].append(plain_trainer_tokens_per_s(examples, base, tokenizer, cfg.sft, steps, cfg.seed))
            print(f"  {arm:5s} {measured[arm][-1]:7.1f} tokens/s", flush=True)
    ours, plain = statistics.median(measured["s1x"]), statistics.median(measured["plain"])
    print(f"  s1x run_sft:             {ours:7.1f} tokens/s (median of {repeats})")
    print(f"  plain transformers loop: {plain:7.1f} tokens/s (median of {repeats})")
    print(f"  ratio s1x / plain:       {ours / plain:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    p.add_argument("--cache-dir", type=Path, default=None, help="stage cache (default: a new one: a cold run)")
    p.add_argument("--run-dir", type=Path, default=None, help="the run dir (default: a new temporary one)")
    p.add_argument("--steps", type=int, default=4, help="optimizer steps per SFT throughput measurement")
    p.add_argument("--repeats", type=int, default=2, help="measurements per arm, even, in ABBA order (median)")
    p.add_argument("--no-run", action="store_true", help="skip part 1 (the run dir must hold a finished run)")
    args = p.parse_args()
    if args.repeats < 2 or args.repeats % 2:
        p.error(f"--repeats {args.repeats}: an even number >= 2 (ABBA order: each arm first as often as last)")
    scratch = Path(tempfile.mkdtemp(prefix="s1x-smol-scaling-"))
    cache_dir = args.cache_dir or scratch / "cache"
    run_dir = args.run_dir or scratch / "run"
    if not args.no_run:
        cold = timed_run(["setting=smol-scaling", f"hydra.run.dir={run_dir}"], cache_dir)
        again = timed_run(["setting=smol-scaling", f"hydra.run.dir={run_dir}"], cache_dir)
        print(f"setting=smol-scaling: first run {cold:.0f} s (cache {cache_dir}), identical rerun {again:.1f} s")
        subprocess.run([sys.executable, "-m", "s1x.analysis", "scaling", str(run_dir)], cwd=ROOT, check=True)
    results = json.loads((run_dir / "results.json").read_text())
    print(f"evaluated {results['model_path']}")
    sft_throughput(run_dir, cache_dir, args.steps, args.repeats)


if __name__ == "__main__":
    main()
