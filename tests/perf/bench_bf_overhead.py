"""Budget forcing's cost over plain decoding: BF with 2 ignores vs one unconstrained pass of the
same number of decoding steps, same HF engine, same batches (target ratio <= 1.15).

    python tests/perf/bench_bf_overhead.py [--checkpoint PATH] [--batch-size 64] [--questions 256]

The baseline runs ``generate`` with no logits processor and min = max new tokens
set to the longest row of each BF batch, so both do the same forward passes;
the difference is the per-step bookkeeping of the one-pass processor. Also
prints the authors' round-based formulation on the same engine for reference.
"""

from __future__ import annotations

import time

import torch
from tiny_checkpoint import tiny_engine_setup

from s1x.engines.hf_generate import left_pad
from s1x.evaluate.controllers.budget_forcing import run_one_pass
from s1x.evaluate.controllers.rounds import run_rounds


def best_of(repeats: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def same_steps_plain(engine, prompts, samples, batch_size: int):
    """The BF run's batches (engine.generate sorts by prompt length the same way) and a function
    that decodes each with no logits processor for as many steps as its longest BF row:
    (plain, batches, steps), the baseline with the same forward passes."""
    pad = engine.pad_id
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    steps = [max(len(samples[i].token_ids) for i in b) for b in batches]

    @torch.inference_mode()
    def plain():
        for b, n in zip(batches, steps):
            ids, mask = left_pad([prompts[i] for i in b], pad)
            engine.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                  do_sample=False, pad_token_id=pad, eos_token_id=engine.eos_id)

    return plain, batches, steps


def main() -> None:
    engine, tok, prompts, tokens, args = tiny_engine_setup(__doc__.splitlines()[0])
    cap = 256
    t_bf, samples = best_of(args.repeats, lambda: run_one_pass(engine, prompts, tokens, cap, num_ignore=2))
    plain, batches, steps = same_steps_plain(engine, prompts, samples, args.batch_size)
    t_plain, _ = best_of(args.repeats, plain)
    t_rounds, _ = best_of(1, lambda: run_rounds(engine, prompts, tokens, cap, num_ignore=2))
    n_tok = sum(len(s.token_ids) for s in samples)
    print(f"{len(prompts)} questions, batch {args.batch_size}, {sum(s.ignores_used for s in samples)} ignores forced, "
          f"{n_tok} tokens generated, {sum(steps)} decoding steps")
    print(f"BF one pass (2 ignores): {t_bf:.2f} s; unconstrained pass, same steps: {t_plain:.2f} s; "
          f"ratio {t_bf / t_plain:.3f} (target <= 1.15)")
    print(f"reference: authors' rounds on the same engine: {t_rounds:.2f} s ({t_rounds / t_bf:.2f}x the one pass)")


if __name__ == "__main__":
    main()
