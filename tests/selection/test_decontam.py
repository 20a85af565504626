"""Deduplication and word 8-gram decontamination, on planted faults and real MATH500 text."""

import json
from pathlib import Path

import pytest

from s1x.data.benchmarks import load_benchmark
from s1x.selection.decontam import decontaminate, dedup, normalize, word_ngrams
from s1x.selection.pools import tiny_pool
from conftest import compose_config

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "benchmarks"


def test_normalize_and_ngrams():
    assert normalize("  Sum\tA5 \n B0  ") == "sum a5 b0"
    words = "one two three four five six seven eight nine".split()
    grams = word_ngrams(" ".join(words))
    assert grams == {tuple(words[:8]), tuple(words[1:])}
    # Fewer than 8 words: the whole text is the only gram (matches only as a whole).
    assert word_ngrams("Sum A5  B0") == {("sum", "a5", "b0")}


def test_dedup_keeps_first_occurrence():
    qs = ["sum A5 B0", "max A1 B2", "SUM  a5 b0", "sum A5 B0", "max A1 B3"]
    assert dedup(qs) == [0, 1, 4]


def test_short_text_is_not_matched_inside_longer_ones():
    keep, hits = decontaminate(["sum A5 B0 C1 D8", "sum a5 b0"], {"bench": ["sum A5 B0"]})
    assert keep == [0] and hits == {"bench": 1}


def test_tiny_pool_funnel_finds_exactly_the_planted_faults():
    cfg = compose_config()
    pool = tiny_pool(3000, seed=1, choice_share=0.2, plant_duplicates=20, plant_overlaps=12, overlap_seed=3)
    assert len(pool) == 3032
    kept = [pool[i] for i in dedup([p.question for p in pool])]
    dropped = {p.id for p in pool} - {p.id for p in kept}
    assert dropped == {p.id for p in pool if p.features.get("planted") == "duplicate"}
    benchmarks = {name: [q.question for q in load_benchmark(b)] for name, b in cfg.benchmark.items()}
    keep, hits = decontaminate([p.question for p in kept], benchmarks)
    found = {kept[i].id for i in range(len(kept))} - {kept[i].id for i in keep}
    planted = {p.id for p in pool if p.features.get("planted") == "overlap"}
    assert found == planted and len(planted) == 12
    assert dict(hits) == {"tiny-mixed": 12}
    # Half of the planted overlaps are embedded in longer text: only an 8-gram finds them.
    embedded = [p for p in pool if p.features.get("planted") == "overlap" and p.question.endswith("exactly as stated")]
    assert len(embedded) >= 2


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/benchmarks (real MATH500)")
def test_real_math500_overlaps_are_found_inside_longer_text():
    math500 = [json.loads(line)["problem"] for line in (SHARED / "math500.jsonl").read_text().splitlines()]
    long_ones = [q for q in math500 if len(q.split()) >= 20][:5]
    # Planted: a passage copied into a new problem, re-spaced and re-cased.
    planted = [f"Consider this. {' '.join(q.upper().split()[3:15])} Then what?" for q in long_ones]
    clean = ["Find the number of positive divisors of 2024 that are perfect squares.",
             "Let x be a real number with x^2 = 9. What is the sum of all such x?"]
    keep, hits = decontaminate(clean + planted, {"math500": math500})
    assert keep == [0, 1] and hits == {"math500": 5}
