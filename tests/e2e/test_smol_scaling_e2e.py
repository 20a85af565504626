"""The s1 effect on SmolLM2, reduced for CI: ``setting=smol-scaling`` with fewer examples, SFT steps
and questions, fixed seed. The full run is tests/perf/bench_smol_scaling.py (numbers in the README).

Reduced: 128 selected examples (no difficulty probe: the full run's probe of 600 problems takes
minutes), one epoch in batches of 8 (16 SFT steps), 64 held-out chains questions (one evaluation
batch) at thinking budgets 16 and 128 with no "Wait". Chosen on chains-dev (60 questions, CI's
configuration: one thread, beside another job): 0.0% -> 51.7%; 64 examples in batches of 4 gave
6.7% -> 20.0%. What it checks is the effect itself: the fine-tuned model's accuracy rises with its
thinking budget, significantly (paired bootstrap CI above zero), every row within its budget.
On the 64 test questions under ``pytest -n 2`` (one thread a worker): 3.1% -> 50.0%, rise +46.9
[+34.4, +59.4]; the run took ~4.6 min (SFT 201 s, evaluation 65 s) beside another test file.
With the pool's checked traces (bbba3e2; the configuration above was chosen before them):
4.7% -> 56.2%, rise +51.6 [+37.5, +64.1] (one process, beside a full smol-scaling sweep).
"""

import json

import pytest

from conftest import run_cli
from s1x.analysis import collect
from s1x.analysis.budget_scaling import scaling_report

REDUCED = ["setting=smol-scaling", "selection.n=128", "selection.uniform_until=128",
           "selection.filters=[dedup,decontaminate,quality]", "sft.epochs=1", "sft.global_batch_size=8",
           "sft.per_device_batch_size=8", "setting.benchmark_limit=64", "method.budgets=[16,128]",
           "method.num_ignore=0", "method.answer_each_ignore=false"]


@pytest.fixture(scope="module")
def reduced_run(cache, smollm2, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("smol-scaling") / "run"
    r = run_cli(REDUCED, cache, run_dir, timeout=1800, env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    return run_dir


def test_fine_tuned_smollm2_accuracy_rises_with_its_thinking_budget(reduced_run):
    res = json.loads((reduced_run / "results.json").read_text())
    assert res["setting"] == "smol-scaling" and res["sft"]["n_examples"] == 128
    assert res["sft"]["precision"] == "fp32_master_bf16_compute" and res["sft"]["trained_dtypes"] == ["float32"]
    rows = {r["budget"]: r for r in res["results"]}
    assert set(rows) == {16, 128} and all(r["n"] == 64 for r in rows.values())
    assert all(r["within_budget_rate"] == 1.0 for r in rows.values())
    _, numbers = scaling_report(collect(reduced_run), n_resamples=2000)
    (model,) = numbers["models"].values()
    rise = model["rise"]
    # Measured +51.6 [+37.5, +64.1] (module docstring); the base model does not rise (README).
    assert rise["n"] == 64 and rise["diff"] >= 20 and rise["ci"][0] > 0, model
    # The per-question evidence: the samples say the same as the rows.
    for row in rows.values():
        samples = [json.loads(x) for x in (reduced_run / row["samples"]).read_text().splitlines()]
        assert sum(s["correct"] for s in samples) / len(samples) == pytest.approx(row["accuracy"])
        assert all(s["thinking_tokens"] <= row["budget"] for s in samples)
