"""Budget-forced generation for the evaluate stage: prompts, controller choice, the thinking room,
and prefix-shared answers after each ignore (Figure 4a).

Generation goes through :mod:`s1x.evaluate.methods` with either of s1x's controllers:
``one_pass`` (HF logits processor) or s1x's exact-budget ``rounds`` (any engine). The
authors' protocol (``controller=authors``) has its own driver, :mod:`s1x.evaluate.authors_eval`.
"""

from __future__ import annotations

from s1x.engines.base import GenerationRequest
from s1x.evaluate.controllers.forcing import KIND_ANSWER, KIND_DELIM, ForcedSample, ForcingTokens
from s1x.evaluate.controllers.rounds import run_rounds
from s1x.evaluate.methods.kinds import method_kind
from s1x.formatting import generation_prompt, with_statement


def question_prompts(tokenizer, questions, statement: str | None) -> tuple[list[str], list[list[int]]]:
    """Each question's generation prompt (with the cell's statement) as text and as token ids."""
    texts = [generation_prompt(tokenizer, with_statement(q.question, statement)) for q in questions]
    return texts, [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]



def choose_controller(method, engine) -> str:
    """one_pass needs an engine with logits processors (one with ``generate``: hf; its
    :attr:`~s1x.engines.EngineKind.one_pass` says so to the config checks); rounds run on any engine."""
    if method.controller != "auto":
        return method.controller
    return "one_pass" if hasattr(engine, "generate") else "rounds"


def thinking_room(method, engine, prompts: list[list[int]], tokens: ForcingTokens) -> int:
    """``method.max_thinking_tokens``, or for ``auto`` the context left after the longest prompt
    and the answer room (a newline, delimiter + prefix, the answer, end of turn)."""
    if method.max_thinking_tokens != "auto":
        return int(method.max_thinking_tokens)
    context = getattr(engine, "context_length", None)
    if not context:
        raise ValueError("method.max_thinking_tokens=auto needs the engine's context length; "
                         "set engine.max_model_len (vllm, openai) or give a number, e.g. method.max_thinking_tokens=32000")
    room = context - max(len(p) for p in prompts) - (1 + len(tokens.end_sequence) + method.max_answer_tokens + 1)
    if room <= 0:
        raise ValueError(f"method.max_thinking_tokens=auto leaves {room} thinking tokens: the longest prompt has "
                         f"{max(len(p) for p in prompts)} of the {context}-token context; use a longer context "
                         "(engine.max_model_len) or shorter method.max_answer_tokens")
    return room


def generate_forced(engine, prompts, tokens: ForcingTokens, cap: int, method, controller: str, *, seed: int,
                    num_ignore: int | None = None, temperature: float | None = None, desc: str = "generate"):
    """Budget-forced generation of ``prompts`` with either controller (identical under greedy)."""
    if controller == "one_pass":
        # imported here: the one-pass processor needs torch, which the config checks must not load
        from s1x.evaluate.controllers.budget_forcing import run_one_pass as run
    else:
        run = run_rounds
    return run(engine, prompts, tokens, cap,
               num_ignore=method.num_ignore if num_ignore is None else num_ignore,
               min_thinking=method.min_thinking_tokens, max_answer_tokens=method.max_answer_tokens,
               temperature=method.temperature if temperature is None else temperature, top_p=method.top_p,
               seed=seed, desc=desc)


def answers_at_each_ignore(engine, prompts, samples: list[ForcedSample], tokens: ForcingTokens, num_ignore: int,
                           max_answer_tokens: int, seed: int) -> list[list[ForcedSample]]:
    """Prefix sharing: from one generation with up to ``num_ignore`` ignores, the sample each
    ignore count 0..num_ignore would have produced, ``[i][question]``.

    A run allowed i ignores is the same run up to the (i+1)-th time the model ends
    thinking; there it ends. So its answer is forced from that snapshot (thinking
    so far + delimiter + answer prefix) and only the short answers are generated.
    A sample with at most i ignores used is already that run."""
    out = [list(samples) for _ in range(num_ignore + 1)]
    jobs = [(i, q) for q, s in enumerate(samples) for i in range(min(s.ignores_used, num_ignore))]
    if hasattr(engine, "answers_from_snapshots"):  # HF: one prefill per sample, the KV cache shared by all cuts
        cuts = [[len(prompts[q]) + c for c in s.snapshots[:num_ignore]] for q, s in enumerate(samples)]
        seqs = [list(prompts[q]) + s.token_ids[: s.snapshots[min(len(s.snapshots), num_ignore) - 1]]
                if s.snapshots else list(prompts[q]) for q, s in enumerate(samples)]
        branches = engine.answers_from_snapshots(seqs, cuts, list(tokens.end_sequence), max_answer_tokens)
        answers = [branches[q][i] for i, q in jobs]
    else:  # any engine: one request per cut (vLLM's prefix caching serves the shared prefixes)
        reqs = [GenerationRequest(tuple(prompts[q]) + tuple(samples[q].token_ids[: samples[q].snapshots[i]])
                                  + tuple(tokens.end_sequence), max_answer_tokens, seed=seed) for i, q in jobs]
        answers = [o.token_ids for (o,) in engine.generate_requests(reqs, desc="answers at each ignore")] if reqs else []
    for (i, q), answer in zip(jobs, answers):
        s = samples[q]
        cut = s.snapshots[i]
        # Everything before the cut is thinking (think and forced-ignore tokens alike).
        d = ForcedSample(token_ids=s.token_ids[:cut], kinds=s.kinds[:cut], thinking_tokens=cut, ignores_used=i)
        d.extend(tokens.end_sequence, KIND_DELIM)
        d.extend(answer, KIND_ANSWER)
        d.token_ids.append(tokens.end_of_turn)
        d.kinds.append(KIND_ANSWER)
        d.rounds = [{"phase": "shared_prefix", "from_ignore": i, "prefix_tokens": cut}]
        out[i][q] = d
    return out


def answer_room(method, tokens: ForcingTokens) -> int:
    """Tokens after thinking: a newline, the delimiter and answer prefix, the answer, the end of turn."""
    return 1 + len(tokens.end_sequence) + method.max_answer_tokens + 1


def fit_context(engine, tokenizer, questions, method, cells, tokens: ForcingTokens
                ) -> tuple[list[int], list[dict]]:
    """Which questions fit the model's context with every cell's prompt, thinking cap and answer room.

    Returns (indices of the questions that fit, one record per question that does not). A cap of
    ``auto`` adapts to the prompts, so such a cell only needs one thinking token of room; without a
    known context length every question fits."""
    context = getattr(engine, "context_length", None)
    if not context:
        return list(range(len(questions))), []
    fixed = method.max_thinking_tokens if method.max_thinking_tokens != "auto" else 1
    # what the method's kind samples past its caps (rejection sampling: its largest budget + 1)
    fixed = method_kind(method.kind).fit_cap(method, cells, fixed)
    need = [0] * len(questions)
    for statement in {c.statement for c in cells}:
        cap = max((c.cap if c.cap is not None else fixed) for c in cells if c.statement == statement)
        _, prompts = question_prompts(tokenizer, questions, statement)
        for i, p in enumerate(prompts):
            need[i] = max(need[i], len(p) + cap + answer_room(method, tokens))
    keep = [i for i, n in enumerate(need) if n <= context]
    skipped = [{"id": questions[i].id, "tokens_needed": n, "context": context} for i, n in enumerate(need) if n > context]
    return keep, skipped
