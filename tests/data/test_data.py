"""Pool and benchmark loading: tiny data identity and the public benchmark file schemas."""

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from s1x.evaluate.schema import BenchmarkConfig
from s1x.data.benchmarks import load_benchmark
from s1x.data.rows import data_version
from s1x.world import tasks

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "benchmarks"


def test_only_tiny_data_carries_the_world_version():
    assert data_version(OmegaConf.structured(BenchmarkConfig(kind="tiny"))) == tasks.WORLD_VERSION
    assert data_version(OmegaConf.structured(BenchmarkConfig(kind="hub", path="HuggingFaceH4/MATH-500"))) is None


def test_tiny_benchmarks_are_held_out_and_sized():
    cfg = OmegaConf.structured(BenchmarkConfig(name="tiny-hard", kind="tiny", size=50, seed=3, min_items=7, max_items=8))
    qs = load_benchmark(cfg)
    assert len(qs) == 50 and all(tasks.in_test_split(q.question) for q in qs)
    assert all(7 <= q.meta["n_items"] <= 8 for q in qs)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the real benchmark files live in ../shared")
@pytest.mark.parametrize("name, n", [("math500.jsonl", 500), ("aime24_nofigures.jsonl", 30), ("aime25_nofigures.jsonl", 30)])
def test_real_benchmark_files_load_in_their_public_schema(name, n):
    rows = [json.loads(line) for line in (SHARED / name).read_text().splitlines() if line.strip()]
    assert len(rows) == n  # AIME24 has 30 problems even though its last line lacks a newline
    cfg = OmegaConf.structured(BenchmarkConfig(name=name, kind="file", path=str(SHARED / name), grader="exact", size=0))
    qs = load_benchmark(cfg)
    assert len(qs) == n
    assert all(q.question and q.gold for q in qs)
    assert [q.gold for q in qs] == [str(r["answer"]) for r in rows]
    assert [q.question for q in qs] == [r["problem"] for r in rows]
