"""Features of pool problems that selection needs (PAPER.md 1.2-1.4).

- ``trace_tokens``: length of the thinking trace in tokens of a configurable
  tokenizer (the authors used Qwen2.5-32B-Instruct's); null without a trace;
- ``probes``: per probe model, whether its answer is graded correct (the
  difficulty signal: the notebook drops a question either Qwen2.5-7B- or
  32B-Instruct solves); null without a reference solution, as the authors'
  grading gave none;
- ``attempt_correct``: whether the pool's own generated attempt is graded
  correct (the keep rule needs it); null without a reference solution;
- ``domain``: the record's own domain, or an MSC code from the classifier.

A feature a pool file gives (:mod:`s1x.selection.given`) is used as it is and
not computed. Quality flags are not features: the select stage applies the
rules a selection chooses (:mod:`s1x.selection.quality`). Probes and the
classifier run through an engine; the pipeline caches each probe's answers as
its own stage, so adding a probe reruns only that probe.
"""

from __future__ import annotations

from typing import Callable, Sequence

from s1x.formatting import THINK_START, prompt_text
from s1x.grading import grade_many
from s1x.records import PoolProblem

PROMPT_STYLES = ("chat", "plain")


def trace_lengths(traces: Sequence[str], tokenizer, batch_size: int = 1024) -> list[int]:
    """Token counts of ``traces`` (no special tokens), tokenized in batches."""
    out: list[int] = []
    for start in range(0, len(traces), batch_size):
        enc = tokenizer(list(traces[start : start + batch_size]), add_special_tokens=False)["input_ids"]
        out += [len(ids) for ids in enc]
    return out


def probe_prompt(tokenizer, question: str, style: str) -> str:
    """What a probe model sees. ``chat``: the chat template (default system prompt) with the
    question as the user turn, then the assistant header and nothing else, as the authors'
    ``data/bulk_inference.py`` (no think delimiter: the probes are plain instruct models).
    ``plain``: the question and the think delimiter, the layout the tiny world's base-model
    checkpoints were pretrained on (they never saw a chat template)."""
    if style == "chat":
        return prompt_text(tokenizer, question)
    if style == "plain":
        return f"{question}\n{THINK_START}"
    raise ValueError(f"probe prompt style {style!r} is not one of: {', '.join(PROMPT_STYLES)}")


def run_probe(engine, tokenizer, problems: list[PoolProblem], style: str, grader: str,
              max_new_tokens: int, temperature: float = 0.0, seed: int = 0) -> dict[str, dict]:
    """One probe model's answers on every problem, graded against the reference; ``correct`` is
    None for a problem without a reference solution (the authors' grader gave none)."""
    prompts = [tokenizer(probe_prompt(tokenizer, p.question, style), add_special_tokens=False)["input_ids"]
               for p in problems]
    completions = engine.generate(prompts, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
                                  desc="probe")
    texts = [tokenizer.decode(c.token_ids) for c in completions]
    grades = grade_many(texts, [p.answer for p in problems], grader)
    return {p.id: {"correct": g.correct if p.solution.strip() else None, "extracted": g.extracted}
            for p, g in zip(problems, grades)}


def given_features(problems: list[PoolProblem]) -> list[str]:
    """The features the pool file gave (the same columns for every row)."""
    return list(problems[0].features.get("given", [])) if problems else []


def featurize(
    problems: list[PoolProblem],
    tokenizer,
    attempt_grader: str,
    classify: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> dict[str, dict]:
    """Features of every problem, by id (see the module docstring for each field; probe
    correctness comes from the probe stages, or the pool file, and is attached at selection).

    Features the pool gives are taken as they are; ``tokenizer`` (may be None when the
    pool gives trace lengths), the grader and ``classify`` run only for those it does not.
    ``classify`` maps ``{id: question}`` to ``{id: domain}`` for the problems that carry no
    domain of their own (None: they stay ``unknown``).
    """
    given = set(given_features(problems))
    out: dict[str, dict] = {p.id: {} for p in problems}
    if "trace_tokens" not in given:
        if tokenizer is None:
            raise ValueError("trace lengths are not given by the pool, and no tokenizer was passed to count them")
        lengths = trace_lengths([p.trace for p in problems], tokenizer)
        for p, n in zip(problems, lengths):
            out[p.id]["trace_tokens"] = n if p.trace else None  # no trace, no length (the authors' None)
    if "attempt_correct" not in given:
        attempts = grade_many([p.attempt for p in problems], [p.answer for p in problems], attempt_grader)
        for p, g in zip(problems, attempts):
            out[p.id]["attempt_correct"] = (bool(p.attempt) and g.correct) if p.solution.strip() else None
    if "domain" not in given:
        unlabeled = {p.id: p.question for p in problems if not p.domain}
        domains = classify(unlabeled) if (classify is not None and unlabeled) else {}
        for p in problems:
            out[p.id]["domain"] = p.domain or domains.get(p.id, "unknown")
    return out


def text_completer(engine, tokenizer, max_new_tokens: int) -> Callable[[Sequence[str], float, int], list[str]]:
    """A ``complete(prompts, temperature, seed) -> texts`` callable over an engine, for the
    MSC classifier: each prompt becomes one chat user turn."""

    def complete(prompts: Sequence[str], temperature: float, seed: int) -> list[str]:
        ids = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                             add_generation_prompt=True) for p in prompts]
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in ids]
        outs = engine.generate(ids, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed, desc="classify")
        return [tokenizer.decode(o.token_ids, skip_special_tokens=True) for o in outs]

    return complete
