"""Prefix-sharing extrapolation: Wait x0..x6 from one budget-forcing generation vs six separate
runs (Wait x1..x6), same HF engine (target: >= 3x faster).

    python tests/perf/bench_prefix_sharing.py [--checkpoint PATH] [--batch-size 64] [--questions 256] [--repeats 3]

The shared run generates once with up to 6 ignores and then only the short
answers forced from each snapshot; it is checked to give exactly the separate
runs' outputs before the times are printed.
"""

from __future__ import annotations

import time

from tiny_checkpoint import tiny_engine_setup

from s1x.evaluate.generation import answers_at_each_ignore
from s1x.evaluate.controllers.budget_forcing import run_one_pass

N_IGNORE, CAP, MAX_ANSWER = 6, 512, 32


def main() -> None:
    engine, tok, prompts, tokens, args = tiny_engine_setup(__doc__.splitlines()[0])

    run_one_pass(engine, prompts[: args.batch_size], tokens, 64)  # warm-up, so neither side pays first-call costs

    def shared_run():
        shared = run_one_pass(engine, prompts, tokens, CAP, num_ignore=N_IGNORE, max_answer_tokens=MAX_ANSWER)
        return answers_at_each_ignore(engine, prompts, shared, tokens, N_IGNORE, MAX_ANSWER, seed=0)

    def separate_runs():
        return {i: run_one_pass(engine, prompts, tokens, CAP, num_ignore=i, max_answer_tokens=MAX_ANSWER)
                for i in range(1, N_IGNORE + 1)}

    # Alternate the two, best of `repeats` each: CPU clock drift hits both alike.
    t_shared = t_separate = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        per_count = shared_run()
        t_shared = min(t_shared, time.perf_counter() - t0)
        t0 = time.perf_counter()
        separate = separate_runs()
        t_separate = min(t_separate, time.perf_counter() - t0)
    for i, runs in separate.items():
        assert [s.token_ids for s in runs] == [s.token_ids for s in per_count[i]], f"Wait x{i} differs"
    print(f"{len(prompts)} questions, Wait x0..x{N_IGNORE}, cap {CAP}: outputs identical to separate runs")
    print(f"shared prefix (1 generation + answers): {t_shared:.2f} s; six separate runs (x1..x6): {t_separate:.2f} s; "
          f"speed-up {t_separate / t_shared:.2f}x (target >= 3)")


if __name__ == "__main__":
    main()
