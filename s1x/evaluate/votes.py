"""Majority vote's ballots: which samples vote for the same answer, and maj@k
(``method.maj_estimator``).

Votes count answers their grader holds equivalent as one (the authors' ``process_results``
votes over answers their LLM first mapped to an option: the gold, then earlier answers):
a sample graded correct votes for the gold; any other answer votes for the first earlier
distinct answer the grader holds equal to it (math-verify for math and integer answers, the
letter for choices; a judge-graded benchmark compares with math-verify, its verdict decided
only the gold's class), else for itself. Identical strings are equal without asking.

``first_k`` (the authors'): maj@k is the most common vote of the first k samples in order,
ties to the vote seen first (``Counter.most_common``); ``subsets`` (s1x's): the expected
maj@k over random k-subsets (:func:`maj_at_k`).
"""

from __future__ import annotations

from collections import Counter
from math import comb
from typing import Callable, Sequence

import numpy as np

ESTIMATORS = ("first_k", "subsets")
GOLD_VOTE = "\x00gold"  # the gold's class: never equal to an extracted answer's text


def rule_equal(kind: str) -> Callable[[str, str], bool]:
    """Whether two extracted answers are the same answer for grader ``kind``."""
    from s1x.grading import same_answer

    rule = "math" if kind == "judge" else kind
    def same(a: str, b: str) -> bool:
        # A comparison math-verify cannot finish (hostile text; its own timeouts bound the time)
        # counts as different. vote_keys compares each distinct answer with each earlier one once.
        try:
            return same_answer(a, b, rule)
        except Exception:
            return False

    return same


def vote_keys(answers: Sequence[str | None], correct: Sequence[bool], same: Callable[[str, str], bool]
              ) -> list[str | None]:
    """Each sample's vote (None: no answer, no vote): :data:`GOLD_VOTE` for a correct sample, else
    the first earlier distinct wrong answer ``same`` holds equal to it, else its own answer."""
    reps: list[str] = []
    known: dict[str, str] = {}
    keys: list[str | None] = []
    for a, ok in zip(answers, correct):
        if a is None:
            keys.append(None)
        elif ok:
            keys.append(GOLD_VOTE)
        else:
            if a not in known:
                known[a] = next((r for r in reps if same(a, r)), a)
                if known[a] == a:
                    reps.append(a)
            keys.append(known[a])
    return keys


def maj_first_k(keys: Sequence[str | None], k: int) -> bool:
    """Whether the most common vote of the first ``k`` samples is the gold's (ties: seen first)."""
    votes = Counter(v for v in keys[:k] if v is not None)
    return bool(votes) and votes.most_common(1)[0][0] == GOLD_VOTE


def maj_score(keys: Sequence[str | None], k: int, estimator: str, n_subsets: int, seed: int) -> float:
    """maj@k of one question's votes with ``estimator`` (``first_k`` or ``subsets``)."""
    if estimator == "first_k":
        if not 1 <= k <= len(keys):
            raise ValueError(f"k={k} must be between 1 and the number of samples {len(keys)}")
        return float(maj_first_k(keys, k))
    if estimator != "subsets":
        raise ValueError(f"method.maj_estimator={estimator!r}: must be one of {', '.join(ESTIMATORS)}")
    return maj_at_k(keys, [v == GOLD_VOTE for v in keys], k, n_subsets, seed)


def maj_at_k(answers: Sequence[str | None], correct: Sequence[bool], k: int, n_subsets: int = 1000,
             seed: int = 0) -> float:
    """Expected majority-vote accuracy of ``k`` of the samples of one question.

    Draws ``n_subsets`` random k-subsets (all of them when there are fewer),
    votes over the extracted answers (ties go to the answer seen first in the
    subset; a missing answer never wins over a present one), and returns the
    share of subsets whose winner is correct.
    """
    if not 1 <= k <= len(answers):
        raise ValueError(f"k={k} must be between 1 and the number of samples {len(answers)}")
    is_right = {a: ok for a, ok in zip(answers, correct) if a is not None}
    rng = np.random.default_rng(seed)
    n = len(answers)
    total = comb(n, k)
    if total <= n_subsets:
        from itertools import combinations

        subsets = list(combinations(range(n), k))
    else:
        subsets = [tuple(rng.choice(n, size=k, replace=False)) for _ in range(n_subsets)]
    wins = 0
    for s in subsets:
        votes = Counter(answers[i] for i in s if answers[i] is not None)
        if votes:
            best = max(votes.values())
            winner = next(answers[i] for i in s if answers[i] is not None and votes[answers[i]] == best)
            wins += bool(is_right.get(winner, False))
    return wins / len(subsets)
