"""SmolLM2 (setting=smol) throughput: budget forcing's cost over plain ``generate``, and engine=openai
(a real ``transformers serve``) against engine=hf on the same questions.

    python tests/perf/bench_smol.py [--checkpoint PATH] [--questions 24] [--batch-size 8] [--cap 64]

1. BF one pass (2 ignores, cap ``--cap``) vs ``generate`` with no logits processor and
   min = max new tokens set to the longest row of each BF batch (the same forward
   passes): time ratio, target <= 1.15, and tokens/s of both.
2. method=none with the cap, rounds over engine=openai (``transformers serve`` on
   127.0.0.1, started and stopped here) vs the one pass on engine=hf: tokens/s of each
   and their ratio. The server decodes one request at a time (no batching on CPU),
   so the ratio is mostly HF's batching; it is recorded in the README.

Without ``--checkpoint`` the smol pipeline's SFT checkpoint comes from the stage cache
(``S1X_CACHE_DIR``), trained first if missing (minutes). Timings on a shared machine are
noisy: compare the ratios, measured in the same run, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from bench_bf_overhead import best_of, same_steps_plain  # noqa: E402
from conftest import compose_config  # noqa: E402
from serving import transformers_serve  # noqa: E402

from s1x.engines.hf_generate import HFEngine  # noqa: E402


def smol_checkpoint() -> str:
    from s1x import pipeline

    cfg = compose_config(["setting=smol", "stages=[select,sft]"])
    with tempfile.TemporaryDirectory() as run_dir:
        return pipeline.run(cfg, run_dir)["model_path"]


def main() -> None:
    from s1x.data.benchmarks import load_benchmark
    from s1x.engines.openai import OpenAIEngine
    from s1x.evaluate.generation import question_prompts
    from s1x.evaluate.controllers.forcing import ForcingTokens
    from s1x.evaluate.controllers.budget_forcing import run_one_pass
    from s1x.evaluate.controllers.rounds import run_rounds
    from s1x.formatting import THINK_END
    from s1x.models import load_tokenizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint")
    p.add_argument("--questions", type=int, default=24)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--cap", type=int, default=64)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default torch's); 1 is steadier on a machine other jobs share")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ckpt = args.checkpoint or smol_checkpoint()
    tok = load_tokenizer(ckpt)
    engine = HFEngine(ckpt, tok, batch_size=args.batch_size)
    questions = load_benchmark(compose_config(["setting=smol"]).benchmark["smol-arith"])[: args.questions]
    prompts = question_prompts(tok, questions, None)[1]
    tokens = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait")

    # 1. BF one pass vs plain generate, the same decoding steps.
    t_bf, samples = best_of(args.repeats, lambda: run_one_pass(engine, prompts, tokens, args.cap, num_ignore=2,
                                                               max_answer_tokens=12))
    plain, batches, steps = same_steps_plain(engine, prompts, samples, args.batch_size)
    t_plain, _ = best_of(args.repeats, plain)
    slots = sum(n * len(b) for b, n in zip(batches, steps))  # token positions decoded, padding rows included
    print(f"{len(prompts)} questions, batch {args.batch_size}, cap {args.cap}, "
          f"{sum(s.ignores_used for s in samples)} ignores forced, {sum(steps)} decoding steps")
    print(f"HF generate: {slots / t_plain:.1f} tokens/s; BF one pass (2 ignores): {slots / t_bf:.1f} tokens/s; "
          f"time ratio BF/generate {t_bf / t_plain:.3f} (target <= 1.15)")

    # 2. engine=openai (transformers serve) vs engine=hf, method=none at the cap.
    t_hf, hf_out = best_of(1, lambda: run_one_pass(engine, prompts, tokens, args.cap, max_answer_tokens=12))
    server_env = {"OMP_NUM_THREADS": str(args.threads)} if args.threads else None  # the same threads as here
    with tempfile.TemporaryDirectory() as tmp, transformers_serve(ckpt, Path(tmp) / "server.log", server_env) as url:
        served = OpenAIEngine(url, ckpt, tok, concurrency=4)
        run_rounds(served, prompts[:1], tokens, 4, max_answer_tokens=2)  # warm the server up
        t0 = time.perf_counter()
        openai_out = run_rounds(served, prompts, tokens, args.cap, max_answer_tokens=12)
        t_openai = time.perf_counter() - t0
    n_hf, n_openai = sum(len(s.token_ids) for s in hf_out), sum(len(s.token_ids) for s in openai_out)
    print(f"method=none: engine=hf {n_hf / t_hf:.1f} tokens/s ({t_hf:.1f} s); engine=openai (transformers serve) "
          f"{n_openai / t_openai:.1f} tokens/s ({t_openai:.1f} s); hf/openai throughput ratio "
          f"{(n_hf / t_hf) / (n_openai / t_openai):.2f}")


if __name__ == "__main__":
    main()
