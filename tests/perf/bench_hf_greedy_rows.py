"""The hf engine's greedy loop, which drops finished rows, against transformers ``generate``,
which decodes them as padding until the batch's longest row ends, on the same batches.

    python tests/perf/bench_hf_greedy_rows.py [--model PATH] [--questions 128] [--batch-size 64]
                                              [--max-new 160] [--dtype bfloat16]

The workload is the smol-scaling probe's: SmolLM2-135M-Instruct (default: the shipped GGUF
route, from the stage cache) answers ``chains`` pool questions greedily from the chat prompt,
up to ``--max-new`` tokens, in batches sorted by prompt length. Each arm runs twice in ABBA
order; printed: the median time of each arm, their ratio, the tokens each generated, and the
rows whose tokens differ (0 in float32; in bfloat16 a row's rounding can depend on the rows
beside it). Timings on a shared machine are noisy: compare the ratio, measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    from transformers import LogitsProcessorList, StoppingCriteriaList

    from s1x.batching import length_batches
    from s1x.engines.hf_generate import HFEngine, _MinNewTokens, _RowDone, left_pad
    from s1x.models import load_tokenizer
    from s1x.models.source import model_config_of, resolve_model
    from s1x.config import resource_path
    from s1x.selection.featurize import probe_prompt

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="a model folder (default: SmolLM2-135M-Instruct from the stage cache)")
    p.add_argument("--questions", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-new", type=int, default=160)
    p.add_argument("--dtype", default="bfloat16")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = args.model or resolve_model(model_config_of("smollm2-135m-instruct"),
                                        os.environ.get("S1X_CACHE_DIR", "~/.cache/s1x")).path
    tok = load_tokenizer(model)
    engine = HFEngine(model, tok, batch_size=args.batch_size, device="cpu", dtype=args.dtype)
    with open(resource_path("chains_pool.jsonl")) as f:
        questions = [json.loads(line)["question"] for line in f][: args.questions]
    prompts = [tok(probe_prompt(tok, q, "chat"), add_special_tokens=False)["input_ids"] for q in questions]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    batches = length_batches(order, [len(x) for x in prompts], args.max_new, args.batch_size, None)
    stops = {engine.eos_id}

    @torch.inference_mode()
    def padded() -> dict[int, list[int]]:
        out = {}
        for b in batches:
            ids, mask = left_pad([prompts[i] for i in b], engine.pad_id)
            width = ids.shape[1]
            gen = engine.model.generate(
                input_ids=ids, attention_mask=mask, max_new_tokens=args.max_new, eos_token_id=engine.eos_id,
                pad_token_id=engine.pad_id, do_sample=False, repetition_penalty=1.0,
                logits_processor=LogitsProcessorList([_MinNewTokens(width, [0] * len(b), [stops] * len(b))]),
                stopping_criteria=StoppingCriteriaList([_RowDone(width, [args.max_new] * len(b), [stops] * len(b))]),
            )[:, width:].tolist()
            for i, g in zip(b, gen):
                out[i] = g[: g.index(engine.eos_id) + 1] if engine.eos_id in g else g
        return out

    @torch.inference_mode()
    def dropping() -> dict[int, list[int]]:
        out = {}
        for b in batches:
            rows = engine._greedy_rows([prompts[i] for i in b], [args.max_new] * len(b), [0] * len(b),
                                       [stops] * len(b))
            out.update(zip(b, rows))
        return out

    times: dict[str, list[float]] = {"generate": [], "s1x": []}
    tokens = {}
    for name, fn in [("generate", padded), ("s1x", dropping), ("s1x", dropping), ("generate", padded)]:
        t0 = time.perf_counter()
        tokens[name] = fn()
        times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    n_tokens = {k: sum(len(t) for t in v.values()) for k, v in tokens.items()}
    differ = sum(tokens["generate"][i] != tokens["s1x"][i] for i in range(len(prompts)))
    print(f"{len(prompts)} questions in {len(batches)} batches of <= {args.batch_size}, {args.max_new} new tokens, "
          f"{args.dtype}")
    for k in ("generate", "s1x"):
        print(f"{k:>9}: median {med[k]:.1f} s (runs {', '.join(f'{t:.1f}' for t in times[k])}), "
              f"{n_tokens[k]} tokens, {n_tokens[k] / med[k]:.1f} tokens/s")
    print(f"speed-up s1x / generate: {med['generate'] / med['s1x']:.2f}x (target >= 1.10); "
          f"rows whose tokens differ: {differ}")


if __name__ == "__main__":
    main()
