"""The authors' budget forcing, token for token (``method.controller=authors``), over any engine.

The paper's numbers come from the authors' fork of lm-evaluation-harness
(``simplescaling/s1``: ``eval/lm-evaluation-harness/lm_eval/models/vllm_causallms.py``,
``_model_generate``; commands in ``eval/commands.sh``). This module restates what
that code does, with every string and number taken from it (never from
``method.answer_prefix`` and friends):

- the prompt is the chat template with the question, then ``<|im_start|>think``
  with no newline (each piece encoded on its own and the ids joined, as they do);
- thinking stops at ``<|im_start|>`` and at the tokenizer's eos string (lm-eval
  appends it to every task's ``until``). With ``num_ignore=N`` (their
  ``thinking_n_ignore``) there are up to N+1 rounds, each with the *full* cap and
  ``min_tokens=1``; after a stop that is not the last round, a trailing stop token
  (``<|im_start|>``, then the eos) is removed and ``Wait`` appended, always; a
  round that ends by length is final. Afterwards the thinking is cut to the cap
  and a trailing stop token removed. ``num_ignore=None`` is their path without
  ``thinking_n_ignore``: one round, no min tokens;
- after a length end: a newline unless vLLM's text of the thinking (uncut) ends
  in one, then ``<|im_start|>answer\\nFinal Answer:``; after a stop:
  ``<|im_start|>answer``; the answer then runs up to ``max_gen_toks`` tokens
  (32,768 in the paper) and stops only at the end of turn;
- ``auto`` = max_gen_toks - longest prompt - len(think start) - len(final end) - 100.

Readings of vLLM details (docs/fidelity.md): a stop string is matched on the
token ids of its own encoding (``<|im_start|>`` is one special token, so this is
vLLM's stop with ``skip_special_tokens=False``, which their
``modify_gen_kwargs`` sets); a multi-token stop string (``<|im_start|>0`` of SCC
with budget forcing) is checked token by token after its first token; vLLM's
text of a round is ``tokenizer.decode`` of its ids without the stop token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from s1x.engines.base import GenerationRequest
from s1x.evaluate.controllers.forcing import KIND_ANSWER, KIND_DELIM, KIND_IGNORE, KIND_THINK, ForcedSample
from s1x.evaluate.controllers.rounds import request_seed

# The authors' strings and numbers (vllm_causallms.py defaults, commands.sh, tasks/*/utils.py).
THINK_START = "<|im_start|>think"
THINK_END = "<|im_start|>answer"
FINAL_ANSWER = "\nFinal Answer:"  # appended to THINK_END after a length end
UNTIL_THINKING = "<|im_start|>"
MAX_GEN_TOKS = 32768  # --gen_kwargs max_gen_toks=32768: the answer cap, and the base of `auto`
AUTO_ANSWER_ROOM = 100  # "Leave 100 tokens for answer"
SCC_BF_THINK_START = "<|im_start|>"  # step-conditional control + budget forcing (commands.sh)
SCC_BF_UNTIL = "<|im_start|>0"  # ... stops when the step countdown reaches 0
SUFFIX_TOKENS = "\n\nThink for up to {} tokens."  # PROMPTTOKEN
SUFFIX_STEPS = "\n\nThink for up to {} steps."  # PROMPTSTEP
SUFFIX_CLASS = {  # PROMPTSHORT / PROMPTLONG
    "short": "\n\nAnswer after a short amount of thinking. Do not spend excessive time double-checking your work.",
    "long": "\n\nAnswer after a long amount of thinking. If you feel like you are finished early, spend the extra "
            "time trying to double-check your work until you are absolutely sure that you have the correct answer.",
}


@dataclass(frozen=True)
class AuthorsProtocol:
    """One configuration of their ``_model_generate`` (the gen_kwargs of one command)."""

    num_ignore: int | None = None  # thinking_n_ignore; None: the path without it
    ignore_str: str | None = "Wait"  # thinking_n_ignore_str; None or "": nothing appended
    min_thinking: int = 0  # min_tokens_thinking (their path without thinking_n_ignore only)
    think_start: str = THINK_START
    until_thinking: str = UNTIL_THINKING
    temperature: float = 0.0
    top_p: float = 1.0
    max_answer_tokens: int = MAX_GEN_TOKS


@dataclass(frozen=True)
class AuthorsTokens:
    """Their strings, each encoded on its own (``tok_encode``) as their code does."""

    think_start: list[int]
    think_end: list[int]
    think_end_max: list[int]  # THINK_END + FINAL_ANSWER
    newline: list[int]
    ignore: list[int]
    stops: list[list[int]]  # until_thinking, then the eos string: their stop strings, in order
    eos: int

    @classmethod
    def build(cls, tokenizer, protocol: AuthorsProtocol) -> "AuthorsTokens":
        enc = lambda s: list(tokenizer(s, add_special_tokens=False)["input_ids"])  # noqa: E731
        eos_text = tokenizer.decode([tokenizer.eos_token_id])
        return cls(think_start=enc(protocol.think_start), think_end=enc(THINK_END),
                   think_end_max=enc(THINK_END + FINAL_ANSWER), newline=enc("\n"),
                   ignore=enc(protocol.ignore_str) if protocol.ignore_str else [],
                   stops=[enc(protocol.until_thinking), enc(eos_text)], eos=tokenizer.eos_token_id)


def auto_cap(prompts: Sequence[Sequence[int]], tokens: AuthorsTokens, max_gen_toks: int) -> int:
    """Their ``max_tokens_thinking=auto``: what is left of ``max_gen_toks`` after the longest
    prompt, the think start, the final-answer end and 100 tokens for the answer."""
    cap = max_gen_toks - max(len(p) for p in prompts) - len(tokens.think_start) - len(tokens.think_end_max) \
        - AUTO_ANSWER_ROOM
    if cap <= 0:
        raise ValueError(f"method.max_thinking_tokens=auto under controller=authors leaves {cap} thinking tokens: it is "
                         f"method.max_answer_tokens ({max_gen_toks}, their max_gen_toks) minus the longest prompt "
                         f"({max(len(p) for p in prompts)} tokens), the delimiters and {AUTO_ANSWER_ROOM}; raise "
                         "method.max_answer_tokens (the paper's is 32768) or give a number")
    return cap


@dataclass
class RoundOutput:
    """What vLLM returns for one request: ``token_ids`` keep the stop token(s) that ended it."""

    token_ids: list[int]
    finish_reason: str  # stop | length
    stop: list[int] | None  # the stop sequence that ended it (None: length)
    requests: int  # engine requests it took (a multi-token stop string is checked token by token)


def generate_until(engine, contexts: Sequence[Sequence[int]], max_tokens: int, min_tokens: int,
                   stops: Sequence[Sequence[int]], temperature: float, top_p: float, seeds: Sequence[int],
                   desc: str) -> list[RoundOutput]:
    """One vLLM ``generate`` call per context, over the engine interface: up to ``max_tokens``
    new tokens, ending at the first of ``stops`` (token sequences) or the end of turn."""
    singles = {s[0] for s in stops if len(s) == 1}
    multi = [list(s) for s in stops if len(s) > 1]
    if multi and min_tokens:
        raise ValueError("min_tokens needs single-token stop strings (as their code asserts)")
    probes = {s[0] for s in multi}
    outs = [RoundOutput([], "length", None, 0) for _ in contexts]
    pending = list(range(len(contexts)))
    step = 0
    while pending:
        step += 1
        reqs = []
        for i in pending:
            got = outs[i].token_ids
            partial = any(got[len(got) - k:] == s[:k] for s in multi for k in range(1, len(s)) if len(got) >= k)
            reqs.append(GenerationRequest(tuple(contexts[i]) + tuple(got), 1 if partial else max_tokens - len(got),
                                          min_new_tokens=max(0, min_tokens - len(got)),
                                          stop_ids=tuple(sorted(singles | probes)), temperature=temperature,
                                          top_p=top_p, seed=request_seed(seeds[i], step, 0)))
        results = engine.generate_requests(reqs, desc=desc)
        still = []
        for i, (res,) in zip(pending, results):
            o = outs[i]
            o.requests += 1
            o.token_ids += list(res.token_ids)
            if res.finish_reason == "stop":
                o.token_ids.append(res.stop_id)
            done = next((s for s in multi if o.token_ids[-len(s):] == s), None) if o.token_ids else None
            if res.finish_reason == "stop" and (res.stop_id in singles or res.stop_id not in probes):
                o.finish_reason, o.stop = "stop", [res.stop_id]
            elif done is not None:
                o.finish_reason, o.stop = "stop", done
            elif len(o.token_ids) >= max_tokens:
                o.finish_reason = "length"
            else:
                still.append(i)
        pending = still
    return outs


def strip_stops(ids: list[int], stops: Sequence[Sequence[int]]) -> list[int]:
    """Their clean-up: for each stop string in order, drop it if the ids end with it."""
    for s in stops:
        if s and ids[-len(s):] == list(s):
            ids = ids[: -len(s)]
    return ids


@dataclass
class _Thinking:
    ids: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    text: str = ""  # vLLM's text of the thinking: uncut, stop strings excluded, ignore strings included
    finish: str = "stop"
    ignores: int = 0
    rounds: list[dict] = field(default_factory=list)
    # (ids, kinds) of the raw thinking where the run allowed i ignores ends, for i < ignores
    at_ignore: list[tuple[list[int], list[str]]] = field(default_factory=list)


@dataclass
class AuthorsRun:
    """One generation under the authors' protocol."""

    sample: ForcedSample
    thinking_text: str  # vLLM's text of the thinking (what their length-end newline check reads)
    at_ignore: list[tuple[list[int], list[str]]]  # for bf_extend: (ids, kinds) where a run allowed i ignores ends
    prompt_ids: list[int] = field(default_factory=list)  # every id sent before the response (think start included)


def think(engine, prompts: Sequence[list[int]], tokens: AuthorsTokens, protocol: AuthorsProtocol, cap: int,
          seed: int, desc: str) -> list[_Thinking]:
    """Their thinking phase (the rounds), before the cut."""
    if cap <= 0:
        raise ValueError(f"thinking cap must be positive, got {cap}")
    with_ignore = protocol.num_ignore is not None
    n_rounds = protocol.num_ignore + 1 if with_ignore else 1
    min_tokens = 1 if with_ignore else protocol.min_thinking
    states = [_Thinking() for _ in prompts]
    active = list(range(len(prompts)))
    for r in range(n_rounds):
        outs = generate_until(engine, [prompts[i] + states[i].ids for i in active], cap, min_tokens, tokens.stops,
                              protocol.temperature, protocol.top_p, [request_seed(seed, r, i) for i in active],
                              f"{desc} think {r + 1}")
        still = []
        for i, o in zip(active, outs):
            st = states[i]
            shown = o.token_ids[: len(o.token_ids) - len(o.stop)] if o.stop else o.token_ids
            final = o.finish_reason == "length" or r == n_rounds - 1
            info = {"phase": "think", "round": r, "max_new_tokens": cap, "min_new_tokens": min_tokens,
                    "stop_ids": sorted({s[0] for s in tokens.stops}), "finish_reason": o.finish_reason,
                    "stop": o.stop, "tokens": len(o.token_ids), "requests": o.requests}
            if final:
                st.ids += o.token_ids
                st.kinds += [KIND_THINK] * len(o.token_ids)
                st.text += _decode(engine, shown)
                st.finish = o.finish_reason
                info["then"] = "end"
            else:
                st.at_ignore.append((st.ids + o.token_ids, st.kinds + [KIND_THINK] * len(o.token_ids)))
                cont = strip_stops(o.token_ids, tokens.stops)
                st.ids += cont + tokens.ignore
                st.kinds += [KIND_THINK] * len(cont) + [KIND_IGNORE] * len(tokens.ignore)
                st.text += _decode(engine, shown) + (protocol.ignore_str or "")
                st.ignores += 1
                info["then"] = "ignore"
                still.append(i)
            st.rounds.append(info)
        active = still
    return states


def _decode(engine, ids: Sequence[int]) -> str:
    return engine.tokenizer.decode(list(ids))


def end_of_thinking(ids: list[int], kinds: list[str], finish: str, text: str, tokens: AuthorsTokens, cap: int
                    ) -> tuple[list[int], list[str], list[int], bool]:
    """Their close of thinking: cut to the cap, drop a trailing stop token, then the end ids
    (after a length end: a newline unless the text ends in one, and the final-answer end).
    Returns (thinking ids, their kinds, end ids, ended by length)."""
    ids, kinds = ids[:cap], kinds[:cap]
    kept = strip_stops(ids, tokens.stops)
    kinds = kinds[: len(kept)]
    if finish == "length":
        newline = [] if text.endswith("\n") else tokens.newline
        return kept, kinds, newline + tokens.think_end_max, True
    return kept, kinds, list(tokens.think_end), False


def answer(engine, prompts: Sequence[list[int]], bodies: Sequence[list[int]], protocol: AuthorsProtocol, seed: int,
           desc: str) -> list[RoundOutput]:
    """Their answer phase: up to ``max_answer_tokens`` (max_gen_toks), stopping only at the end of turn."""
    eos = engine.tokenizer.eos_token_id
    return generate_until(engine, [p + b for p, b in zip(prompts, bodies)], protocol.max_answer_tokens, 0, [[eos]],
                          protocol.temperature, protocol.top_p, [request_seed(seed, 10_000, i) for i in range(len(prompts))],
                          f"{desc} answer")


def assemble(thinking: list[int], kinds: list[str], end: list[int], out: RoundOutput, forced_end: bool,
             ignores: int, rounds: list[dict], max_answer_tokens: int) -> ForcedSample:
    """A :class:`ForcedSample` whose ``token_ids`` are every id after the prompt, in order."""
    s = ForcedSample()
    for tok, kind in zip(thinking, kinds):
        s.extend([tok], kind)
    s.extend(end, KIND_DELIM)
    body = out.token_ids[: len(out.token_ids) - len(out.stop)] if out.stop else out.token_ids
    s.extend(body, KIND_ANSWER)
    if out.stop:  # the end of turn that closed the answer is part of the sequence (vLLM keeps it)
        s.token_ids += out.stop
        s.kinds += [KIND_ANSWER] * len(out.stop)
    s.forced_end, s.ignores_used = forced_end, ignores
    s.stop_reason = "eos" if out.finish_reason == "stop" else "length"
    s.rounds = rounds + [{"phase": "answer", "max_new_tokens": max_answer_tokens, "min_new_tokens": 0,
                          "finish_reason": out.finish_reason, "stop": out.stop, "tokens": len(out.token_ids),
                          "requests": out.requests}]
    return s


def run_authors(engine, prompts: Sequence[Sequence[int]], tokens: AuthorsTokens, protocol: AuthorsProtocol, cap: int,
                seed: int = 0, desc: str = "authors") -> list[AuthorsRun]:
    """Their budget forcing of ``prompts`` (chat-templated question ids, think start not yet added)
    with thinking capped at ``cap``; one :class:`AuthorsRun` per prompt, in order."""
    full = [list(p) + tokens.think_start for p in prompts]
    states = think(engine, full, tokens, protocol, cap, seed, desc)
    closed = [end_of_thinking(st.ids, st.kinds, st.finish, st.text, tokens, cap) for st in states]
    outs = answer(engine, full, [t + e for t, _, e, _ in closed], protocol, seed, desc)
    runs = []
    for p, st, (thinking, kinds, end, by_length), out in zip(full, states, closed, outs):
        sample = assemble(thinking, kinds, end, out, by_length, st.ignores, st.rounds, protocol.max_answer_tokens)
        runs.append(AuthorsRun(sample, st.text, st.at_ignore, p))
    return runs


def answers_at_each_ignore(engine, runs: list[AuthorsRun], tokens: AuthorsTokens, protocol: AuthorsProtocol, cap: int,
                           seed: int) -> list[list[ForcedSample]]:
    """``[i][question]``: the sample their code gives with ``thinking_n_ignore=i``, for i in
    0..num_ignore, from the one generation with ``num_ignore``. That run is this one up to its
    round i; where round i stopped and more rounds followed, it ends there instead (cut, stop
    dropped, ``<|im_start|>answer``) and only its answer is generated."""
    n = protocol.num_ignore or 0
    out = [[r.sample for r in runs] for _ in range(n + 1)]
    jobs = [(i, q) for q, r in enumerate(runs) for i in range(min(len(r.at_ignore), n))]
    bodies = []
    for i, q in jobs:
        raw, kinds = runs[q].at_ignore[i]
        bodies.append(end_of_thinking(raw, kinds, "stop", "", tokens, cap))
    answers = answer(engine, [runs[q].prompt_ids for _, q in jobs], [t + e for t, _, e, _ in bodies], protocol, seed,
                     "authors at each ignore") if jobs else []
    for (i, q), (thinking, kinds, end, _), a in zip(jobs, bodies, answers):
        rounds = [dict(r, shared=True) for r in runs[q].sample.rounds[: i + 1]]
        out[i][q] = assemble(thinking, kinds, end, a, False, i, rounds, protocol.max_answer_tokens)
    return out


def run_unsplit(engine, prompts: Sequence[Sequence[int]], tokens: AuthorsTokens, protocol: AuthorsProtocol,
                seed: int = 0, desc: str = "authors") -> list[AuthorsRun]:
    """Their path when no thinking gen_kwargs are given ("s1 without budget forcing"): one
    generation of up to ``max_gen_toks`` from the chat template, no think start added; the model
    writes its own delimiters. Thinking = what it writes after its ``<|im_start|>think`` and
    before its ``<|im_start|>answer`` (all of it when it never ends thinking)."""
    outs = answer(engine, [list(p) for p in prompts], [[] for _ in prompts], protocol, seed, desc)
    runs = []
    for p, out in zip(prompts, outs):
        ids = out.token_ids[: len(out.token_ids) - len(out.stop)] if out.stop else list(out.token_ids)
        start = len(tokens.think_start) if ids[: len(tokens.think_start)] == tokens.think_start else 0
        end = next((k for k in range(start, len(ids) - len(tokens.think_end) + 1)
                    if ids[k : k + len(tokens.think_end)] == tokens.think_end), len(ids))
        s = ForcedSample()
        s.extend(ids[:start], KIND_DELIM)
        s.extend(ids[start:end], KIND_THINK)
        s.extend(ids[end : end + len(tokens.think_end)], KIND_DELIM)
        s.extend(ids[end + len(tokens.think_end):], KIND_ANSWER)
        if out.stop:
            s.token_ids += out.stop
            s.kinds += [KIND_ANSWER] * len(out.stop)
        s.stop_reason = "eos" if out.finish_reason == "stop" else "length"
        s.rounds = [{"phase": "unsplit", "max_new_tokens": protocol.max_answer_tokens, "min_new_tokens": 0,
                     "finish_reason": out.finish_reason, "stop": out.stop, "tokens": len(out.token_ids),
                     "requests": out.requests}]
        runs.append(AuthorsRun(s, engine.tokenizer.decode(ids[start:end]), [], list(p)))
    return runs
