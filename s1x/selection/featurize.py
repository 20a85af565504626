"""Features of pool problems that selection needs (PAPER.md 1.2-1.4).

- ``trace_tokens``: length of the thinking trace in tokens of a configurable
  tokenizer (the paper used Qwen2.5's);
- ``quality``: the flags of :mod:`s1x.selection.quality`;
- ``probes``: per probe model, whether its greedy answer is graded correct
  (the difficulty signal: the paper drops a question either Qwen2.5-7B- or
  32B-Instruct solves);
- ``attempt_correct``: whether the pool's own generated attempt is graded
  correct (the keep rule needs it);
- ``domain``: the record's own domain, or an MSC code from the classifier.

Probes and the classifier run through an engine; the pipeline caches each
probe's answers as its own stage, so adding a probe reruns only that probe.
"""

from __future__ import annotations

from typing import Callable, Sequence

from s1x.formatting import THINK_START, generation_prompt
from s1x.grading import grade_many
from s1x.selection.quality import quality_flags
from s1x.records import PoolProblem


def trace_lengths(traces: Sequence[str], tokenizer, batch_size: int = 1024) -> list[int]:
    """Token counts of ``traces`` (no special tokens), tokenized in batches."""
    out: list[int] = []
    for start in range(0, len(traces), batch_size):
        enc = tokenizer(list(traces[start : start + batch_size]), add_special_tokens=False)["input_ids"]
        out += [len(ids) for ids in enc]
    return out


def probe_prompt(tokenizer, question: str, style: str) -> str:
    """What a probe model sees: the chat prompt (instruct models) or the plain pretraining
    layout (the tiny world's base-model checkpoints, which never saw a chat template)."""
    if style == "chat":
        return generation_prompt(tokenizer, question)
    if style == "plain":
        return f"{question}\n{THINK_START}"
    raise ValueError(f"probe prompt style {style!r} is not one of: chat, plain")


def run_probe(engine, tokenizer, problems: list[PoolProblem], style: str, grader: str,
              max_new_tokens: int) -> dict[str, dict]:
    """Greedy answers of one probe model on every problem, graded against the reference."""
    prompts = [tokenizer(probe_prompt(tokenizer, p.question, style), add_special_tokens=False)["input_ids"]
               for p in problems]
    completions = engine.generate(prompts, max_new_tokens=max_new_tokens, desc="probe")
    texts = [tokenizer.decode(c.token_ids) for c in completions]
    grades = grade_many(texts, [p.answer for p in problems], grader)
    return {p.id: {"correct": g.correct, "extracted": g.extracted} for p, g in zip(problems, grades)}


def featurize(
    problems: list[PoolProblem],
    tokenizer,
    attempt_grader: str,
    classify: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> dict[str, dict]:
    """Features of every problem, by id (see the module docstring for each field; probe
    correctness comes from the probe stages and is attached at selection).

    ``classify`` maps ``{id: question}`` to ``{id: domain}`` for the problems
    that carry no domain of their own (None: they stay ``unknown``).
    """
    lengths = trace_lengths([p.trace for p in problems], tokenizer)
    unlabeled = {p.id: p.question for p in problems if not p.domain}
    domains = classify(unlabeled) if (classify is not None and unlabeled) else {}
    attempts = grade_many([p.attempt for p in problems], [p.answer for p in problems], attempt_grader)
    out = {}
    for p, n, g in zip(problems, lengths, attempts):
        out[p.id] = {
            "trace_tokens": n,
            "quality": quality_flags(p.question, p.trace, p.attempt, p.source),
            "attempt_correct": bool(p.attempt) and g.correct,
            "domain": p.domain or domains.get(p.id, "unknown"),
        }
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
