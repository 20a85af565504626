"""The LLM judge of ``grader=judge`` over any engine (the ``judge`` config: ``judge.model`` and
``judge.engine``, an engine config of its own: any engine :func:`s1x.engines.make_engine` builds).

:mod:`s1x.grading.judge` owns the protocol and takes a ``complete(prompts, temperature, seed)``
function; this module makes one from an engine's request interface, so every engine that
answers :class:`~s1x.engines.base.GenerationRequest` can judge.
"""

from __future__ import annotations

from typing import Callable, Sequence

from s1x.engines.base import GenerationRequest
from s1x.evaluate.sample_records import JUDGE


def uses_judge(bcfg) -> bool:
    """Whether a benchmark config grades (or cross-grades) with the LLM judge."""
    return bcfg.grader == JUDGE or JUDGE in list(bcfg.extra_graders) or bool(bcfg.choice_llm)


S1X_JUDGE_MAX_TOKENS = 32  # s1x's protocol: the reply holds a Yes/No verdict


def judge_max_tokens(judge_cfg) -> int:
    """``judge.max_new_tokens``, or the protocol's: 32 for s1x's Yes/No, 1,024 for the authors'."""
    from s1x.grading.authors_judge import MAX_TOKENS

    if judge_cfg.max_new_tokens:
        return int(judge_cfg.max_new_tokens)
    return MAX_TOKENS if judge_cfg.protocol == "authors" else S1X_JUDGE_MAX_TOKENS


def judge_template(benchmark: str) -> str:
    """The authors' prompt variant of a benchmark: their AIME tasks' for ``aime*``, else MATH's."""
    return "aime" if benchmark.lower().startswith("aime") else "math"


def request_completer(engine, max_new_tokens: int) -> Callable[[Sequence[str], float, int], list[str]]:
    """``complete(prompts, temperature, seed) -> replies``: each prompt as one user turn of the
    judge's chat template, answered through ``engine.generate_requests``; an engine that talks
    to a server with chat completions (engine=openai) lets the server apply the template."""
    if hasattr(engine, "chat"):
        return lambda prompts, temperature, seed: engine.chat(list(prompts), temperature, seed, max_new_tokens)
    tokenizer = engine.tokenizer

    def complete(prompts: Sequence[str], temperature: float, seed: int) -> list[str]:
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                               add_generation_prompt=True) for p in prompts]
        reqs = [GenerationRequest(tuple(tokenizer(t, add_special_tokens=False)["input_ids"]), max_new_tokens,
                                  temperature=temperature, seed=seed + i) for i, t in enumerate(texts)]
        outs = engine.generate_requests(reqs, desc="judge") if reqs else []
        return [tokenizer.decode(o.token_ids, skip_special_tokens=True) for (o,) in outs]

    return complete
