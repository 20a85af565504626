"""Deterministic generators of step-by-step problems with exact answers.

The tiny world stands in for the paper's math pool on a 2-core CPU. Each
problem is a list of items, each item a single token such as ``C7`` (position
letter + digit), and a domain that folds the items into one state. Two lessons
from the prototype (``TINY_WORLD.md``) shape the text:

- a tiny model's bottleneck is *finding* the i-th item, so an item is one
  token (one attention lookup) rather than a letter and a digit;
- a step fails when it needs a value that is not on its own line, so every
  trace line repeats what it needs (previous state, the item, the target).

Trace lines contain no spaces: the word-level tokenizer splits them at
letter/digit/punctuation boundaries and joins them back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from s1x.records import question_id

# Bump when generated text changes: it is part of every cache key built on
# generated data (pool, pretraining corpus, benchmarks), so stale entries are never reused.
WORLD_VERSION = 3  # 3: choices before the items; split by the opening 8 words

LETTERS = "ABCDEFGHIJKL"  # item position letters (the vocabulary allows up to 12 items)
# 2-8 items: with 12, a 2-minute base model confused positions (skipped or invented
# items) and full-budget accuracy stayed near the guessing floor; 8 trains in time.
MIN_ITEMS, MAX_ITEMS = 2, 8
CHOICE_LABELS = "ABCD"
DOMAINS = ("sum", "count", "parity", "mod7", "max")


@dataclass(frozen=True)
class Problem:
    """One generated problem: question text, thinking trace and exact answer."""

    domain: str
    question: str
    trace: str
    answer: str
    n_items: int
    choice: bool

    @property
    def id(self) -> str:
        return question_id(self.question)


TEST_SHARE_MOD = 10  # one question in 10 belongs to the test split


def in_test_split(question: str) -> bool:
    """Whether a question belongs to the held-out test split.

    Decided by the hash of the question's first 8 words (all of it when shorter),
    so no generator needs another's output to stay disjoint from it, and no
    training question opens with the same word 8-gram as a test question: the
    8-gram decontamination then finds only the overlaps planted on purpose
    (multiple-choice questions open with a low-entropy option list).
    """
    opening = " ".join(question.split(" ")[:8])
    return int(question_id(opening), 16) % TEST_SHARE_MOD == 0


def _parity(x: int) -> str:
    return "odd" if x % 2 else "even"


# Each domain: (question head, initial state, step line, state update).
# A step line is written from (item token, previous state, digit, target).
def _sum_steps(items, digits, _target):
    state, lines = 0, []
    for item, d in zip(items, digits):
        new = state + d
        lines.append(f"{item}:{state}+{d}={new}")
        state = new
    return lines, str(state)


def _count_steps(items, digits, target):
    state, lines = 0, []
    for item, d in zip(items, digits):
        inc = int(d == target)
        lines.append(f"{item}:{target}:{state}+{inc}={state + inc}")
        state += inc
    return lines, str(state)


def _parity_steps(items, digits, _target):
    state, lines = 0, []
    for item, d in zip(items, digits):
        new = (state + d) % 2
        lines.append(f"{item}:{_parity(state)}+{_parity(d)}={_parity(new)}")
        state = new
    return lines, _parity(state)


def _mod7_steps(items, digits, _target):
    state, lines = 0, []
    for item, d in zip(items, digits):
        new = (state + d) % 7
        lines.append(f"{item}:{state}+{d}%7={new}")
        state = new
    return lines, str(state)


def _max_steps(items, digits, _target):
    state, lines = 0, []
    for item, d in zip(items, digits):
        new = max(state, d)
        lines.append(f"{item}:max({state},{d})={new}")
        state = new
    return lines, str(state)


STEPS: dict[str, Callable] = {
    "sum": _sum_steps,
    "count": _count_steps,
    "parity": _parity_steps,
    "mod7": _mod7_steps,
    "max": _max_steps,
}


def _distractors(domain: str, answer: str, rng: np.random.Generator) -> list[str]:
    """Three wrong options near the right one, so a choice needs the reasoning."""
    if domain == "parity":
        return ["odd" if answer == "even" else "even"]
    value, hi = int(answer), {"sum": 12 * 9, "count": 12, "mod7": 6, "max": 9}[domain]
    pool = [v for v in range(max(0, value - 4), min(hi, value + 4) + 1) if v != value]
    if len(pool) < 3:
        pool = [v for v in range(0, hi + 1) if v != value]
    return [str(v) for v in rng.choice(pool, size=3, replace=False)]


def make_problem(domain: str, n_items: int, rng: np.random.Generator, choice: bool = False) -> Problem:
    """Draw one problem of ``domain`` with ``n_items`` items from ``rng``."""
    digits = [int(d) for d in rng.integers(0, 10, size=n_items)]
    items = [f"{LETTERS[i]}{d}" for i, d in enumerate(digits)]
    target = int(rng.integers(0, 10)) if domain == "count" else None
    head = f"count {target} in" if domain == "count" else domain
    question = f"{head} {' '.join(items)}"
    lines, answer = STEPS[domain](items, digits, target)
    if choice:
        options = [answer] + _distractors(domain, answer, rng)
        order = rng.permutation(len(options))
        options = [options[i] for i in order]
        labels = CHOICE_LABELS[: len(options)]
        # Choices go first, so the items stay right before the trace in every layout:
        # after the choices, a 0.6M model still found items by distance and failed.
        question = "choices " + " ".join(f"{o}({lab})" for o, lab in zip(options, labels)) + ": " + question
        label = labels[options.index(answer)]
        lines.append(f"{answer}=({label})")
        answer = label
    return Problem(domain, question, "\n".join(lines), answer, n_items, choice)


def generate(
    n: int,
    seed: int,
    choice_share: float = 0.0,
    min_items: int = MIN_ITEMS,
    max_items: int = MAX_ITEMS,
    split: str = "train",
) -> list[Problem]:
    """Generate ``n`` distinct problems of ``split`` (train/test), domains round-robin.

    Deterministic in ``seed``. Train and test questions are disjoint by
    construction (:func:`in_test_split`), so benchmarks never leak into the
    pool or the pretraining corpus. Raises if the space runs dry.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    want_test = split == "test"
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[Problem] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n + 1000:
            raise ValueError(f"could only generate {len(out)} of {n} distinct problems")
        domain = DOMAINS[len(out) % len(DOMAINS)]
        n_items = int(rng.integers(min_items, max_items + 1))
        p = make_problem(domain, n_items, rng, choice=bool(rng.random() < choice_share))
        if p.question in seen or in_test_split(p.question) != want_test:
            continue
        seen.add(p.question)
        out.append(p)
    return out
