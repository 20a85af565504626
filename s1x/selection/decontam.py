"""Deduplication and word 8-gram decontamination of a candidate pool (PAPER.md 1.1).

Texts are compared after normalisation: lower-cased, every run of whitespace
collapsed to one space, stripped. A pool question is contaminated when it
shares any word n-gram (n = 8 by default) with a benchmark question. A text
with fewer than n words has no n-gram; such a text can only match as a whole
(the normalised texts are equal). Matching short texts inside longer ones
would wrongly flag the many longer pool questions that merely start the same
way ("sum A5 B0" is a prefix of "sum A5 B0 C1").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case and collapse whitespace, the form every comparison here uses."""
    return _WS.sub(" ", text.lower()).strip()


def word_ngrams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    """The word n-grams of the normalised text; the whole text when it has fewer than n words."""
    words = normalize(text).split(" ")
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def dedup(questions: list[str]) -> list[int]:
    """Indices of the first occurrence of every distinct normalised question, in order."""
    seen: set[str] = set()
    keep = []
    for i, q in enumerate(questions):
        key = normalize(q)
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return keep


@dataclass
class ContaminationIndex:
    """The n-grams of every benchmark question, and which benchmark each came from."""

    n: int = 8
    grams: dict[tuple[str, ...], str] = field(default_factory=dict)  # gram -> first benchmark that has it

    def add(self, benchmark: str, questions: list[str]) -> None:
        for q in questions:
            for g in word_ngrams(q, self.n):
                self.grams.setdefault(g, benchmark)

    def match(self, question: str) -> str | None:
        """The benchmark this question overlaps, or None."""
        for g in word_ngrams(question, self.n):
            hit = self.grams.get(g)
            if hit is not None:
                return hit
        return None


def decontaminate(questions: list[str], benchmarks: dict[str, list[str]], n: int = 8) -> tuple[list[int], Counter]:
    """Indices of pool questions with no n-gram overlap with any benchmark, and per-benchmark hit counts."""
    index = ContaminationIndex(n)
    for name, qs in benchmarks.items():
        index.add(name, qs)
    keep, hits = [], Counter()
    for i, q in enumerate(questions):
        hit = index.match(q)
        if hit is None:
            keep.append(i)
        else:
            hits[hit] += 1
    return keep, hits
