"""The authors' rejection sampling (``method=rs method.controller=authors``), over any engine.

Their ``_model_generate`` with ``rejection_sample=true`` (``eval/commands.sh``: caps
3,500-16,000, temperature 1): thinking is asked for with ``max_tokens = cap + 1``
and a sample is accepted when its token ids, the stop token included, number at
most ``cap`` (so accepted thinking is at most ``cap - 1`` tokens once the stop is
dropped). Every wave resends a full batch: the slot of an accepted question is
filled with a copy of the next pending question after it (cyclically), and an
accepted copy goes to that question; where several samples of one question are
accepted in one wave, the last slot wins. Waves go on until every question has
a sample: there is no limit (``max_tries=None``), unless s1x's cap on waves is
set, after which a question still pending gets their budget forcing at the cap
(``rs_fallback``). An accepted sample ends with ``<|im_start|>answer`` and its
answer is sampled like its thinking.
"""

from __future__ import annotations

import logging
from typing import Sequence

from s1x.evaluate.controllers.authors import (AuthorsProtocol, AuthorsRun, AuthorsTokens, RoundOutput, answer, assemble,
                                          generate_until, run_authors, strip_stops)
from s1x.evaluate.controllers.forcing import KIND_THINK
from s1x.evaluate.controllers.rounds import request_seed

log = logging.getLogger("s1x")


def next_pending(j: int, pending: Sequence[bool]) -> int:
    """The first slot at or after ``j`` (cyclically) whose question is still pending."""
    n = len(pending)
    return next((j + k) % n for k in range(n) if pending[(j + k) % n])


def run_authors_rs(engine, prompts: Sequence[Sequence[int]], tokens: AuthorsTokens, protocol: AuthorsProtocol,
                   cap: int, max_tries: int | None = None, seed: int = 0, desc: str = "authors rs"
                   ) -> list[tuple[AuthorsRun, int, bool]]:
    """Rejection sampling of ``prompts`` (chat-templated ids) until each question's thinking fits
    ``cap``; per question ``(run, tries, fell back)``, tries = the wave its sample came from."""
    full = [list(p) + tokens.think_start for p in prompts]
    n = len(full)
    max_tokens = cap + 1
    accepted: list[RoundOutput | None] = [None] * n
    tries = [0] * n
    slot_question = list(range(n))
    wave = 0
    while any(a is None for a in accepted) and (max_tries is None or wave < max_tries):
        wave += 1
        outs = generate_until(engine, [full[q] for q in slot_question], max_tokens, protocol.min_thinking, tokens.stops,
                              protocol.temperature, protocol.top_p, [request_seed(seed, wave, j) for j in range(n)],
                              f"{desc} wave {wave}")
        pending = [a is None for a in accepted]
        for j, o in enumerate(outs):
            if len(o.token_ids) <= max_tokens - 1:
                target = j if pending[j] else next_pending(j, pending)
                accepted[target], tries[target] = o, wave
        left = [a is None for a in accepted]
        if any(left):
            slot_question = [j if left[j] else next_pending(j, left) for j in range(n)]
            log.info("%s wave %d: %d of %d questions still above %d thinking tokens", desc, wave, sum(left), n, cap)
    done = [q for q in range(n) if accepted[q] is not None]
    bodies = []
    for q in done:
        thinking = strip_stops(accepted[q].token_ids, tokens.stops)
        bodies.append((thinking, thinking + tokens.think_end))
    outs = answer(engine, [full[q] for q in done], [b for _, b in bodies], protocol, seed, desc) if done else []
    result: list[tuple[AuthorsRun, int, bool] | None] = [None] * n
    for q, (thinking, _), out in zip(done, bodies, outs):
        o = accepted[q]
        rounds = [{"phase": "think", "wave": tries[q], "max_new_tokens": max_tokens, "min_new_tokens": protocol.min_thinking,
                   "finish_reason": o.finish_reason, "stop": o.stop, "tokens": len(o.token_ids), "requests": o.requests,
                   "then": "accepted"}]
        sample = assemble(thinking, [KIND_THINK] * len(thinking), tokens.think_end, out, False, 0, rounds,
                          protocol.max_answer_tokens)
        result[q] = (AuthorsRun(sample, engine.tokenizer.decode(thinking), [], full[q]), tries[q], False)
    missing = [q for q in range(n) if accepted[q] is None]
    if missing:  # s1x's cap on waves was reached: their budget forcing at the cap
        forced = run_authors(engine, [prompts[q] for q in missing], tokens,
                             AuthorsProtocol(None, None, protocol.min_thinking, protocol.think_start,
                                             protocol.until_thinking, protocol.temperature, protocol.top_p,
                                             protocol.max_answer_tokens), cap, seed + 1, f"{desc} fallback")
        for q, run in zip(missing, forced):
            result[q] = (run, wave, True)
    return result  # type: ignore[return-value]
