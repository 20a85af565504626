"""Prompts beyond the model's context: skipped and counted (or refused), never generated past the
context, and never padded into a batch that allocates gigabytes."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from s1x.batching import length_batches
from s1x.world.pretrain import build_model
from s1x.world.tokenizer import build_tokenizer

TOK = build_tokenizer()
PEAK_LIMIT_MB = 2048
# Runs the CLI as a child and prints the child's peak resident memory (ru_maxrss, KiB on Linux).
MEASURE = ("import resource, subprocess, sys\n"
           "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
           "sys.stderr.write(r.stderr)\n"
           "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small random tiny-world model with a 1,024-token context, saved as an s1x checkpoint."""
    path = tmp_path_factory.mktemp("ctx-model")
    build_model(TOK, {"layers": 1, "hidden": 32, "ffn": 64, "heads": 2, "kv_heads": 1}, seed=1).save_pretrained(path)
    TOK.save_pretrained(str(path / "tokenizer"))
    return path


@pytest.fixture(scope="module")
def long_benchmark(tmp_path_factory):
    """Three ordinary questions, one of 1 MB and one of about 3,000 tokens (ids long-1mb, long-3k)."""
    rows = [{"id": f"q{i}", "problem": f"sum A{i} B2", "answer": str(i + 2)} for i in range(1, 4)]
    rows.append({"id": "long-1mb", "problem": ("A1 " * 350_000)[:1_000_000], "answer": "1"})
    rows.append({"id": "long-3k", "problem": "B2 " * 3000, "answer": "2"})
    path = tmp_path_factory.mktemp("ctx-bench") / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run(model_dir, bench, tmp_path, *extra):
    args = [sys.executable, "-m", "s1x.run", "stages=[evaluate]", f"model={model_dir}", "benchmark=[math500]",
            "benchmark.math500.kind=file", f"benchmark.math500.path={bench}", "benchmark.math500.grader=exact",
            "method=bf", "method.budgets=[8,16]", "method.max_answer_tokens=4", f"hydra.run.dir={tmp_path / 'run'}",
            *extra]
    out = subprocess.run([sys.executable, "-c", MEASURE, *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "S1X_CACHE_DIR": str(tmp_path / "cache")})
    code, peak_kib = out.stdout.split()[-2:]
    return int(code), int(peak_kib) / 1024, out.stderr


def test_long_prompts_are_skipped_counted_and_memory_stays_small(model_dir, long_benchmark, tmp_path):
    code, peak_mb, err = _run(model_dir, long_benchmark, tmp_path)
    assert code == 0, err[-3000:]
    assert peak_mb < PEAK_LIMIT_MB, f"peak {peak_mb:.0f} MB"
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [r["n"] for r in res["results"]] == [3, 3]
    assert all(r["n_skipped_context"] == 2 for r in res["results"])
    skipped = [json.loads(x) for x in (tmp_path / "run" / "eval" / "math500" / "context_skipped.jsonl").read_text().splitlines()]
    assert {s["id"] for s in skipped} == {"long-1mb", "long-3k"}
    assert all(s["tokens_needed"] > s["context"] == 1024 for s in skipped)
    for r in res["results"]:  # every evaluated sample fits the context
        for line in (tmp_path / "run" / r["samples"]).read_text().splitlines():
            s = json.loads(line)
            assert len(TOK(s["prompt"], add_special_tokens=False)["input_ids"]) + len(
                TOK(s["response"], add_special_tokens=False)["input_ids"]) <= 1024
    print(f"\ncontext budget: peak memory {peak_mb:.0f} MB (limit {PEAK_LIMIT_MB} MB)")


def test_fail_policy_and_an_impossible_budget_are_refused_before_generating(model_dir, long_benchmark, tmp_path):
    code, _, err = _run(model_dir, long_benchmark, tmp_path, "engine.on_context_overflow=fail")
    assert code == 2 and "2 of 5 questions of math500 need more than the model's 1024-token context" in err
    assert "Traceback" not in err
    code, _, err = _run(model_dir, long_benchmark, tmp_path, "method.budgets=[3000]")
    assert code == 2 and "lower method.budgets" in err and "Traceback" not in err


def test_batches_are_cut_by_tokens_as_well_as_rows():
    lengths = [10, 10, 10, 10, 500]
    assert length_batches(range(5), lengths, 6, 64, None) == [[0, 1, 2, 3, 4]]
    # 4 rows x (10 + 6) fit in 64 tokens; the 500-token prompt goes alone
    assert length_batches(range(5), lengths, 6, 64, 64) == [[0, 1, 2, 3], [4]]
    assert length_batches(range(5), lengths, 6, 2, 10**6) == [[0, 1], [2, 3], [4]]
