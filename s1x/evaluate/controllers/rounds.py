"""s1x's exact-budget rounds: budget forcing in rounds over any engine (the vLLM path of s1x's rules).

Not the authors' loop (that is :mod:`s1x.evaluate.controllers.authors`, ``controller=authors``):
these rounds ask for the budget left plus one token, append the ignore string only
where it fits, and never let thinking pass the cap.

Each round is one engine request per unfinished sample, batch-wide:

1. thinking: continue the sample with ``max_new_tokens = cap - thinking + 1``
   and the delimiter's first token as stop id (end of turn always stops). The
   one extra token tells whether the model would end exactly at the cap: if it
   ends there it is its own end, otherwise the extra token is dropped and the
   cut is forced.
2. the model ended thinking: if ignores remain (or thinking is below the
   minimum) and the ignore string fits, append it and go to 1; else append the
   delimiter and the answer prefix;
3. cut at the cap: append a newline (unless at a line end), the delimiter and
   the answer prefix (``forced_end``);
4. answer: one request with ``max_new_tokens = max_answer_tokens``; the end of
   turn closes the sample (forced when the answer ran out of room).

These are the rules of :class:`s1x.evaluate.controllers.budget_forcing.BudgetForcingProcessor`
step for step, so under greedy decoding the one-pass processor and these
rounds produce identical tokens (asserted in the tests); the rounds re-send the
prefix each round, which an engine with prefix caching (vLLM) serves from cache.
"""

from __future__ import annotations

from typing import Sequence

from s1x.engines.base import GenerationRequest
from s1x.evaluate.controllers.forcing import KIND_ANSWER, KIND_DELIM, KIND_IGNORE, KIND_THINK, ForcedSample, ForcingTokens


def request_seed(seed: int, round_: int, row: int) -> int:
    """A seed per request: vLLM seeds each request on its own, so copies of one prompt
    (majority vote's K samples) must not share one, or they would be K identical samples."""
    return (seed * 1_000_003 + round_ * 100_003 + row) % 2**31


def run_rounds(engine, prompts: Sequence[Sequence[int]], tokens: ForcingTokens, cap: int, *, num_ignore: int = 0,
               min_thinking: int = 0, max_answer_tokens: int = 32, temperature: float = 0.0, top_p: float = 1.0,
               seed: int = 0, desc: str = "rounds") -> list[ForcedSample]:
    """Budget forcing with thinking capped at ``cap`` tokens, in batch-wide rounds over ``engine``."""
    if cap <= 0:
        raise ValueError(f"thinking cap must be positive, got {cap}")
    samples = [ForcedSample() for _ in prompts]
    thinking = list(range(len(prompts)))
    delim_start = tokens.end_sequence[0]
    rnd = 0
    while thinking:
        rnd += 1
        reqs = [GenerationRequest(tuple(prompts[i]) + tuple(samples[i].token_ids), cap - samples[i].thinking_tokens + 1,
                                  stop_ids=(delim_start,), temperature=temperature, top_p=top_p,
                                  seed=request_seed(seed, rnd, i)) for i in thinking]
        outs = engine.generate_requests(reqs, desc=f"{desc} think {rnd}")
        still = []
        for i, req, (out,) in zip(thinking, reqs, outs):
            s = samples[i]
            room = cap - s.thinking_tokens
            info = {"phase": "think", "max_new_tokens": req.max_new_tokens, "stop_ids": list(req.stop_ids),
                    "finish_reason": out.finish_reason, "stop_id": out.stop_id}
            if out.finish_reason == "stop":  # the model ends thinking after len(out) <= room tokens
                s.extend(out.token_ids, KIND_THINK)
                ignore_fits = s.thinking_tokens + len(tokens.ignore) < cap
                must_go_on = s.ignores_used < num_ignore or s.thinking_tokens < min_thinking
                if ignore_fits and must_go_on:
                    s.snapshots.append(s.thinking_tokens)
                    s.extend(tokens.ignore, KIND_IGNORE)
                    s.ignores_used += 1
                    info["forced"] = "ignore"
                    still.append(i)
                else:
                    s.extend(tokens.end_sequence, KIND_DELIM)
                    info["forced"] = "end_sequence"
            else:  # no end within room + 1 tokens: cut at the cap, drop the extra token
                s.extend(out.token_ids[:room], KIND_THINK)
                last = s.token_ids[-1] if s.token_ids else prompts[i][-1]
                newline = [] if tokens.ends_line(last) else [tokens.newline]
                s.extend(newline + list(tokens.end_sequence), KIND_DELIM)
                s.forced_end = True
                info["forced"] = "cap"
            info["tokens"] = len(out.token_ids)
            s.rounds.append(info)
        thinking = still
    reqs = [GenerationRequest(tuple(p) + tuple(s.token_ids), max_answer_tokens, temperature=temperature, top_p=top_p,
                              seed=request_seed(seed, 0, i)) for i, (p, s) in enumerate(zip(prompts, samples))]
    for s, req, (out,) in zip(samples, reqs, engine.generate_requests(reqs, desc=f"{desc} answer")):
        s.extend(out.token_ids, KIND_ANSWER)
        s.token_ids.append(tokens.end_of_turn)
        s.kinds.append(KIND_ANSWER)
        s.rounds.append({"phase": "answer", "max_new_tokens": req.max_new_tokens, "stop_ids": [],
                         "finish_reason": out.finish_reason, "stop_id": out.stop_id, "tokens": len(out.token_ids),
                         "forced": "end_of_turn" if out.finish_reason == "length" else None})
    return samples
