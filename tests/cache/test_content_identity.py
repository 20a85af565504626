"""Nothing stale: inputs are known by their bytes, cache entries are checked when read.

- an edited pool file or benchmark file recomputes what depends on it, and only that;
- an edited model directory is another model: its evaluations are recomputed;
- damaged cache entries (a truncated checkpoint, featurize file or samples file) are found,
  moved aside and rebuilt, with the numbers of the undamaged run.
"""

import json
import shutil

import pytest

from conftest import run_cli
from s1x.selection.pools import tiny_pool


def _results(run_dir):
    return json.loads((run_dir / "results.json").read_text())


def _metrics(res):
    return [(r["benchmark"], r["budget"], r["accuracy"], r["mean_thinking_tokens"]) for r in res["results"]]


def _write_pool(path, n, offset=0):
    rows = [{"question": p.question, "solution": p.answer, "source_type": p.source, "domain": p.domain,
             "thinking_trajectories": [p.trace], "attempt": p.attempt}
            for p in tiny_pool(n + offset, seed=5, choice_share=0.0)[offset:]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_an_edited_pool_file_is_featurized_and_selected_again(tmp_path):
    pool = tmp_path / "pool.jsonl"
    _write_pool(pool, 300)
    args = ["stages=[select]", "pool=file", f"pool.path={pool}", "selection=1k-random", "selection.n=50",
            "benchmark=[tiny-mixed]"]
    cache = tmp_path / "cache"
    assert run_cli(args, cache, tmp_path / "a").returncode == 0
    r = run_cli(args, cache, tmp_path / "b")
    assert _results(tmp_path / "b")["cached"] == {"featurize": True, "select": True}
    moved = tmp_path / "elsewhere" / "pool-copy.jsonl"  # the same bytes at another path: nothing recomputed
    moved.parent.mkdir()
    shutil.copy(pool, moved)
    run_cli([a.replace(str(pool), str(moved)) for a in args], cache, tmp_path / "moved")
    assert _results(tmp_path / "moved")["cached"] == {"featurize": True, "select": True}
    _write_pool(pool, 100)  # the same path, other content
    r = run_cli(args, cache, tmp_path / "c")
    assert r.returncode == 0, r.stderr[-2000:]
    res = _results(tmp_path / "c")
    assert res["cached"] == {"featurize": False, "select": False}
    assert res["selection"]["pool_size"] == 100


def test_an_edited_benchmark_file_is_evaluated_again(default_run, tmp_path):
    from s1x.data.benchmarks import load_benchmark
    from conftest import compose_config

    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    qs = load_benchmark(compose_config(["benchmark=[tiny-mixed]"]).benchmark["tiny-mixed"])[:40]
    bench = tmp_path / "bench.jsonl"

    def write(answer_of):
        bench.write_text("".join(json.dumps({"id": q.id, "problem": q.question, "answer": answer_of(q)}) + "\n"
                                 for q in qs))

    write(lambda q: q.gold)
    args = ["stages=[evaluate]", f"model={ckpt}", "benchmark=[math500]", "benchmark.math500.kind=file",
            f"benchmark.math500.path={bench}", "benchmark.math500.grader=exact", "method.budgets=[96]"]
    cache = tmp_path / "cache"
    assert run_cli(args, cache, tmp_path / "a").returncode == 0
    first = _results(tmp_path / "a")["results"][0]["accuracy"]
    assert first > 0.5
    run_cli(args, cache, tmp_path / "b")
    assert _results(tmp_path / "b")["cached"]["evaluate"]
    copy = tmp_path / "bench-copy.jsonl"
    shutil.copy(bench, copy)
    run_cli([a.replace(str(bench), str(copy)) for a in args], cache, tmp_path / "copy")
    assert _results(tmp_path / "copy")["cached"]["evaluate"]  # known by its bytes, not its path
    write(lambda q: q.gold + "0")  # every answer changed, same path
    r = run_cli(args, cache, tmp_path / "c")
    assert r.returncode == 0, r.stderr[-2000:]
    res = _results(tmp_path / "c")
    assert not res["cached"]["evaluate"] and res["results"][0]["accuracy"] < first / 4


def test_an_edited_model_dir_is_another_model(default_run, tmp_path):
    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    model = tmp_path / "model"
    shutil.copytree(ckpt, model, ignore=shutil.ignore_patterns("manifest.json", "meta.json"))
    args = ["stages=[evaluate]", f"model={model}", "benchmark=[tiny-choice]", "method.budgets=[32]"]
    cache = tmp_path / "cache"
    assert run_cli(args, cache, tmp_path / "a").returncode == 0
    run_cli(args, cache, tmp_path / "b")
    assert _results(tmp_path / "b")["cached"]["evaluate"]
    (model / "config.json").write_text((model / "config.json").read_text().replace("\n", "\n ", 1))
    run_cli(args, cache, tmp_path / "c")
    assert not _results(tmp_path / "c")["cached"]["evaluate"]


def _entry(cache, stage, match):
    """The one complete entry of ``stage`` whose meta.json satisfies ``match``."""
    found = [p for p in (cache / stage).iterdir() if not p.name.startswith(".")
             and match(json.loads((p / "meta.json").read_text()))]
    assert len(found) == 1, (stage, found)
    return found[0]


def test_a_copied_checkpoint_is_the_pipelines_checkpoint(default_run, cache, tmp_path):
    """``model=<a copy of the sft entry>`` is named as the pipeline named the entry (its entry
    digest), so the default run's evaluations are found, not recomputed."""
    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    copy = tmp_path / "my-checkpoint"
    shutil.copytree(ckpt, copy)
    r = run_cli(["stages=[evaluate]", f"model={copy}"], cache, tmp_path / "run")
    assert r.returncode == 0, r.stderr[-3000:]
    res = _results(tmp_path / "run")
    assert res["cached"] == {"evaluate": True}
    assert _metrics(res) == _metrics(_results(default_run[0]))


def test_damaged_entries_are_found_moved_aside_and_rebuilt(default_run, cache, tmp_path):
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy, ignore=shutil.ignore_patterns(".locks", ".tmp", ".partial", ".hashes"))
    ref = _results(default_run[0])
    ref_budgets = sorted({r["budget"] for r in ref["results"]})
    sft = copy / "sft" / json.loads((default_run[0] / "checkpoint.json").read_text())["cache_key"]
    weights = sft / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # a truncated checkpoint
    feats = _entry(copy, "featurize", lambda m: m["config"]["pool"]["kind"] == "tiny")
    pool = feats / "pool.jsonl"
    pool.write_text("".join(pool.read_text().splitlines(keepends=True)[:3000]))  # a cut featurize file
    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    evals = _entry(copy, "evaluate", lambda m: m["model"] == ckpt and m["config"]["benchmark"]["name"] == "tiny-mixed"
                   and m["config"]["method"]["name"] == "bf" and m["config"]["method"]["budgets"] == ref_budgets)
    samples = evals / "bf-96" / "samples.jsonl"
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[:50]))  # 50 of 200 samples
    r = run_cli([], copy, tmp_path / "run")
    assert r.returncode == 0, r.stderr[-3000:]
    res = _results(tmp_path / "run")
    assert not res["cached"]["featurize"] and not res["cached"]["sft"] and not res["cached"]["evaluate"]
    assert res["cached"]["pretrain"]
    assert _metrics(res) == _metrics(ref)
    for stage in ("featurize", "sft", "evaluate"):
        assert list((copy / stage / ".corrupt").iterdir()), stage
    assert "failed verification" in "".join(p.read_text() for p in (tmp_path / "run").glob("*.log"))


@pytest.mark.parametrize("policy", ["fail"])
def test_on_corrupt_fail_stops_with_the_path_to_delete(default_run, cache, tmp_path, policy):
    copy = tmp_path / "cache"
    shutil.copytree(cache / "pretrain", copy / "pretrain", ignore=shutil.ignore_patterns(".*"))
    entry = next(p for p in (copy / "pretrain").iterdir() if not p.name.startswith("."))
    (entry / "config.json").write_text("{}")
    r = run_cli(["stages=[select]", f"cache.on_corrupt={policy}"], copy, tmp_path / "run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"rm -r {entry}" in r.stderr
