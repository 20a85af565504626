"""The smol setting's shipped data: exactly what its generator writes, read through s1x's own
mappings, held-out benchmark questions, and the ``${s1x.resource:NAME}`` resolver."""

import json
import re

import pytest
from omegaconf import OmegaConf

from conftest import compose_config
from s1x.resources import smol_data


def _jsonl(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_shipped_files_are_what_the_generator_writes():
    assert _jsonl(smol_data.POOL_FILE) == smol_data.pool_rows()
    assert _jsonl(smol_data.BENCHMARK_FILE) == smol_data.benchmark_rows()


def test_smol_pool_and_benchmark_load_through_the_configs():
    from s1x.data.benchmarks import load_benchmark
    from s1x.data.rows import rows_from
    from s1x.selection.pools import s1k_schema_pool

    cfg = compose_config(["setting=smol"])
    assert cfg.pool.path == str(smol_data.POOL_FILE) and cfg.setting.benchmark_limit == 4
    assert cfg.benchmark["smol-arith"].limit is None  # the setting's limit applies; a benchmark's own would win
    pool = s1k_schema_pool(rows_from(cfg.pool.path), cfg.pool.trace_source)
    assert len(pool) == 96 and all(p.trace.endswith(f"So the answer is {p.solution}.") for p in pool)
    questions = load_benchmark(cfg.benchmark["smol-arith"])  # all 24; evaluation takes the first `limit`
    assert len(questions) == 24 and all(q.gold.isdigit() for q in questions)
    assert not {q.question for q in questions} & {p.question for p in pool}
    # Every step of every trace is right, and the last step's result is the answer.
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "x": lambda a, b: a * b, "/": lambda a, b: a / b}
    for p in pool:
        steps = re.findall(r"(\d+) ([-+x/]) (\d+) = (\d+)", p.trace)
        assert steps and all(ops[op](int(a), int(b)) == int(c) for a, op, b, c in steps), p.trace
        assert steps[-1][3] == p.solution and p.attempt == f"Answer: {p.solution}"


def test_an_unknown_resource_names_the_folder():
    cfg = OmegaConf.create({"path": "${s1x.resource:nope.jsonl}"})
    with pytest.raises(Exception, match="no such file in .*s1x/resources"):
        OmegaConf.to_container(cfg, resolve=True)
