"""Bad inputs fail fast: each of these exits non-zero with one line naming the key or the file
(and row) and what to do, and no traceback, before any pretraining, probe or SFT (asserted on the
case's own cache: no such entry was started). The seconds each case took are printed (``-s``):
on a quiet 2-core machine every case takes a few seconds, most of it Python's imports.

Every case runs the real CLI (``python -m s1x.run``) with its own empty cache; two at a time.
"""

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT

EXPENSIVE = ("pretrain", "probe", "sft", "evaluate")
POOL_COLUMNS = {"solution": "4", "source_type": "x", "thinking_trajectories": ["2+2=4"], "attempt": "Answer: 4"}


def _jsonl(path: Path, rows) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def _files(d: Path) -> dict[str, str]:
    """Broken pools and benchmarks, each with one fault."""
    good_q = {"problem": "What is 2+2?", "answer": "4"}
    f = {
        "pool_empty": _jsonl(d / "pool_empty.jsonl", []),
        "pool_truncated": _jsonl(d / "pool_truncated.jsonl", [{"question": "a", **POOL_COLUMNS}, '{"question": "b", "sol']),
        "pool_null_question": _jsonl(d / "pool_null_q.jsonl", [{"question": "a", **POOL_COLUMNS},
                                                               {"question": None, **POOL_COLUMNS}]),
        "pool_no_question_column": _jsonl(d / "pool_noq.jsonl", [{"prompt": "a", **POOL_COLUMNS}]),
        "pool_no_trace_column": _jsonl(d / "pool_notrace.jsonl", [{"question": "a", "solution": "4"}]),
        "pool_not_objects": _jsonl(d / "pool_list.jsonl", ["[1, 2, 3]"]),
        "bench_no_answer": _jsonl(d / "bench_noanswer.jsonl", [good_q, {"problem": "What is 3+3?", "answer": None}]),
        "bench_null_problem": _jsonl(d / "bench_nullq.jsonl", [good_q, {"problem": None, "answer": "6"}]),
        "bench_truncated": _jsonl(d / "bench_trunc.jsonl", [good_q, '{"problem": "What is']),
        "bench_empty": _jsonl(d / "bench_empty.jsonl", []),
        "bench_wrong_schema": _jsonl(d / "bench_schema.jsonl", [{"text": "hi", "label": 1}]),
    }
    (d / "pool.csv").write_text("question,answer\na,1\n")
    f["pool_csv"] = str(d / "pool.csv")
    (d / "bench_latin1.jsonl").write_bytes('{"problem": "caf\xe9", "answer": "1"}\n'.encode("latin-1"))
    f["bench_latin1"] = str(d / "bench_latin1.jsonl")
    return f


FILE_POOL = ["stages=[select]", "pool=file", "selection=1k-random"]
FILE_BENCH = ["stages=[evaluate]", "model=tiny"]

# (case id, CLI arguments (FILES[...] filled in below), text the error line must contain)
CASES = [
    ("negative seed", ["seed=-1"], "seed"),
    ("zero threads", ["threads=0"], "threads"),
    ("negative threads", ["threads=-2"], "threads"),
    ("negative selection seed", ["selection.seed=-3"], "selection.seed"),
    ("zero selection n", ["selection.n=0"], "selection.n"),
    ("selection n above the pool", ["stages=[select]", "selection=1k-random", "selection.n=100000"], "selection.n=100000"),
    ("unknown filter", ["selection.filters=[bogus]"], "selection.filters"),
    ("unknown stage", ["stages=[train]"], "stages"),
    ("no stages", ["stages=[]"], "stages"),
    ("zero budget", ["method.budgets=[0]"], "method.budgets"),
    ("negative budget", ["method.budgets=[-5]"], "method.budgets"),
    ("negative ignores", ["method.num_ignore=-1"], "method.num_ignore"),
    ("zero answer tokens", ["method.max_answer_tokens=0"], "method.max_answer_tokens"),
    ("negative temperature", ["method.temperature=-1"], "method.temperature"),
    ("zero top_p", ["method.top_p=0"], "method.top_p"),
    ("zero max thinking", ["method.max_thinking_tokens=0"], "method.max_thinking_tokens"),
    ("greedy rejection sampling", ["method=rs", "method.temperature=0"], "method.temperature"),
    ("negative checkpoint interval", ["sft.checkpoint_every_minutes=-1"], "sft.checkpoint_every_minutes"),
    ("a key inside the server url", ["engine=openai", "engine.base_url=http://me:sk-secret@127.0.0.1:9/v1"],
     "must hold no credentials"),
    ("authors rounds on a generic server", ["engine=openai", "engine.base_url=http://127.0.0.1:9/v1",
                                            "method.controller=authors"], "engine.server"),
    ("zero majority samples", ["method=majority", "method.samples=0"], "method.samples"),
    ("unknown controller", ["method.controller=bogus"], "method.controller"),
    ("tpu device", ["engine.device=tpu"], "engine.device"),
    ("zero engine batch", ["engine.batch_size=0"], "engine.batch_size"),
    ("unknown engine name", ["engine.name=bogus"], "engine.name"),
    ("unknown overflow policy", ["engine.on_context_overflow=maybe"], "engine.on_context_overflow"),
    ("no benchmark", ["benchmark=[]"], "benchmark"),
    ("unknown benchmark kind", ["benchmark.tiny-mixed.kind=bogus"], "benchmark.tiny-mixed.kind"),
    ("unknown grader", ["benchmark.tiny-mixed.grader=bogus"], "benchmark.tiny-mixed.grader"),
    ("missing benchmark file", ["benchmark.tiny-mixed.kind=file", "benchmark.tiny-mixed.path=/nonexistent/b.jsonl"],
     "benchmark.tiny-mixed.path"),
    ("zero lr", ["sft.lr=0"], "sft.lr"),
    ("negative epochs", ["sft.epochs=-1"], "sft.epochs"),
    ("warmup above 1", ["sft.warmup_ratio=1.5"], "sft.warmup_ratio"),
    ("unknown overlong policy", ["sft.overlong=bogus"], "sft.overlong"),
    ("batch not divisible", ["sft.global_batch_size=15", "sft.per_device_batch_size=2"], "sft.global_batch_size"),
    ("zero processes", ["distributed=ddp", "distributed.nproc_per_node=0"], "distributed.nproc_per_node"),
    ("unknown verify mode", ["cache.verify=bogus"], "cache.verify"),
    ("unknown corrupt policy", ["cache.on_corrupt=bogus"], "cache.on_corrupt"),
    ("unknown logger mode", ["logger=wandb", "logger.mode=bogus"], "logger.mode"),
    ("negative samples per row", ["logger.samples_per_row=-1"], "logger.samples_per_row"),
    ("model typo", ["stages=[evaluate]", "model=tny"], "model='tny'"),
    ("missing model path", ["stages=[evaluate]", "model=/nonexistent/checkpoint"], "/nonexistent/checkpoint"),
    ("missing probe model", ["stages=[select]", "pool.featurize.probes=[{name:p,model:'/nope/probe'}]"],
     "pool.featurize.probes[0].model"),
    ("missing pool file", ["stages=[select]", "pool=file", "pool.path=/nonexistent/pool.parquet"], "pool.path"),
    ("empty pool file", FILE_POOL + ["pool.path={pool_empty}"], "pool_empty.jsonl"),
    ("truncated pool line", FILE_POOL + ["pool.path={pool_truncated}"], "pool_truncated.jsonl line 2"),
    ("null pool question", FILE_POOL + ["pool.path={pool_null_question}"], "pool row 1"),
    ("pool without question column", FILE_POOL + ["pool.path={pool_no_question_column}"], "'question'"),
    ("pool without traces", FILE_POOL + ["pool.path={pool_no_trace_column}"], "trace column"),
    ("pool rows not objects", FILE_POOL + ["pool.path={pool_not_objects}"], "pool_list.jsonl line 1"),
    ("pool as csv", FILE_POOL + ["pool.path={pool_csv}"], "pool.csv"),
    ("benchmark row without answer", FILE_BENCH + ["benchmark=[math500]", "benchmark.math500.kind=file",
                                                   "benchmark.math500.path={bench_no_answer}"], "row 1"),
    ("benchmark row without problem", FILE_BENCH + ["benchmark=[math500]", "benchmark.math500.kind=file",
                                                    "benchmark.math500.path={bench_null_problem}"], "row 1"),
    ("truncated benchmark line", FILE_BENCH + ["benchmark=[math500]", "benchmark.math500.kind=file",
                                               "benchmark.math500.path={bench_truncated}"], "bench_trunc.jsonl line 2"),
    ("empty benchmark file", FILE_BENCH + ["benchmark=[math500]", "benchmark.math500.kind=file",
                                           "benchmark.math500.path={bench_empty}"], "bench_empty.jsonl"),
    ("benchmark in another schema", FILE_BENCH + ["benchmark=[math500]", "benchmark.math500.kind=file",
                                                  "benchmark.math500.path={bench_wrong_schema}"], "'problem'"),
    ("benchmark not utf-8", FILE_BENCH + ["benchmark=[math500]", "benchmark.math500.kind=file",
                                          "benchmark.math500.path={bench_latin1}"], "UTF-8"),
]


def _run(args, cache, run_dir):
    env = {**os.environ, "S1X_CACHE_DIR": str(cache), "HYDRA_FULL_ERROR": "0"}
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "s1x.run", *args, f"hydra.run.dir={run_dir}"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    return r, time.monotonic() - t0


def readme_rule() -> tuple[int, int]:
    """The README's statement of this file (section Configuration): (cases, exit code)."""
    text = " ".join((ROOT / "README.md").read_text().split())
    found = re.search(r"exit code (\d+)\. Bad-input cases checked: (\d+) \(`tests/config/test_bad_inputs.py`, which reads this "
                      r"count and this rule here: exit code (\d+), no traceback, exactly one stderr line starting `s1x: ` "
                      r"and holding `error`\)", text)
    assert found, "README.md no longer states the bad-input rule this test checks"
    assert found.group(1) == found.group(3)
    return int(found.group(2)), int(found.group(3))


def test_the_readme_states_these_cases_and_their_rule():
    assert len({c[0] for c in CASES}) == len(CASES)
    assert readme_rule()[0] == len(CASES)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case run once (two at a time): {case id: (completed process, seconds)}."""
    d = tmp_path_factory.mktemp("bad")
    files = _files(d)
    def fill(arg: str) -> str:  # {name} -> the broken file of that name (str.format would trip on YAML braces)
        for k, v in files.items():
            arg = arg.replace("{" + k + "}", v)
        return arg

    jobs = {name: ([fill(a) for a in args], d / f"cache-{i}", d / f"run-{i}") for i, (name, args, _) in enumerate(CASES)}
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(_run, *job) for name, job in jobs.items()}
        done = {name: (*f.result(), jobs[name][1]) for name, f in futures.items()}
    slowest = sorted(done.items(), key=lambda kv: -kv[1][1])[:3]
    print("\nbad inputs: slowest cases " + ", ".join(f"{n} {t:.1f} s" for n, (_, t, _) in slowest))
    return done


@pytest.mark.parametrize("name, args, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_fast_with_one_clear_line(outcomes, name, args, expected):
    r, seconds, cache = outcomes[name]
    out = r.stdout + r.stderr
    assert r.returncode == readme_rule()[1], (r.returncode, out[-2000:])
    assert "Traceback" not in out, out[-3000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("s1x: ") and "error" in line]
    assert len(errors) == 1, r.stderr[-2000:]
    assert expected in errors[0], errors[0]
    started = [stage for stage in EXPENSIVE if (cache / stage).exists()]
    assert not started, f"{name} reached {started} before failing"


def test_an_offline_hub_miss_is_one_line(tmp_path, monkeypatch):
    """A well-formed hub id that the offline cache lacks: said once, no retries, no traceback."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty local cache
    r, _ = _run(["stages=[evaluate]", "model=Qwen/Qwen2.5-7B-Instruct", "benchmark=[tiny-choice]"],
                tmp_path / "cache", tmp_path / "run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'Qwen/Qwen2.5-7B-Instruct': HF_HUB_OFFLINE is set" in r.stderr
