"""Every test-time method through the default run's checkpoint: controllers agree, prefix sharing
equals separate runs, every method writes rows through the CLI, and W&B offline logging.

Shares the session's stage cache and default run with test_pipeline_e2e.py (conftest).
"""

import json

import pytest

from conftest import run_cli


def _results(run_dir):
    return json.loads((run_dir / "results.json").read_text())


def _engine_and_prompts(default_run, n=120):
    from s1x.engines.hf_generate import HFEngine
    from s1x.formatting import generation_prompt
    from s1x.models import load_tokenizer
    from s1x.world import tasks

    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    tok = load_tokenizer(ckpt)
    engine = HFEngine(ckpt, tok, batch_size=64)
    questions = tasks.generate(n, seed=3, split="test", choice_share=0.3)
    return engine, tok, [tok(generation_prompt(tok, q.question), add_special_tokens=False)["input_ids"] for q in questions]


@pytest.mark.parametrize("ignore_str", ["Wait", ""])
def test_one_pass_and_rounds_give_identical_outputs_under_greedy(default_run, ignore_str):
    from s1x.formatting import THINK_END
    from s1x.evaluate.controllers.forcing import ForcingTokens
    from s1x.evaluate.controllers.budget_forcing import run_one_pass
    from s1x.evaluate.controllers.rounds import run_rounds

    engine, tok, prompts = _engine_and_prompts(default_run)
    tokens = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", ignore_str)
    settings = [(16, 0, 0), (48, 0, 0), (96, 2, 0), (200, 4, 0), (64, 0, 40)]  # (cap, ignores, min thinking)
    for cap, ignores, min_thinking in settings:
        kw = {"num_ignore": ignores, "min_thinking": min_thinking, "max_answer_tokens": 32}
        one, rounds = run_one_pass(engine, prompts, tokens, cap, **kw), run_rounds(engine, prompts, tokens, cap, **kw)
        for a, b in zip(one, rounds):
            assert (a.token_ids, a.kinds) == (b.token_ids, b.kinds), (cap, ignores, tok.decode(a.token_ids),
                                                                      tok.decode(b.token_ids))
            assert (a.thinking_tokens, a.answer_tokens, a.ignores_used, a.forced_end) == \
                (b.thinking_tokens, b.answer_tokens, b.ignores_used, b.forced_end)
            assert a.thinking_tokens <= cap
        # Every setting exercised what it claims: cuts, ignores, the minimum.
        if ignores:
            assert sum(s.ignores_used for s in one) > 0
        if cap <= 48:
            assert sum(s.forced_end for s in one) > 0


def test_prefix_sharing_answers_equal_separate_runs(default_run):
    from s1x.evaluate.generation import answers_at_each_ignore
    from s1x.formatting import THINK_END
    from s1x.evaluate.controllers.forcing import ForcingTokens
    from s1x.evaluate.controllers.budget_forcing import run_one_pass

    engine, tok, prompts = _engine_and_prompts(default_run)
    tokens = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait")
    n, cap = 4, 160
    shared = run_one_pass(engine, prompts, tokens, cap, num_ignore=n)
    per_count = answers_at_each_ignore(engine, prompts, shared, tokens, n, 32, seed=0)
    assert sum(s.ignores_used == n for s in shared) > 0
    for i in range(n + 1):
        separate = run_one_pass(engine, prompts, tokens, cap, num_ignore=i)
        for a, b in zip(per_count[i], separate):
            assert a.token_ids == b.token_ids, (i, tok.decode(a.token_ids), tok.decode(b.token_ids))
            assert (a.thinking_tokens, a.ignores_used, a.forced_end) == (b.thinking_tokens, b.ignores_used, b.forced_end)


METHOD_RUNS = {
    # option: extra overrides (kept small: tiny-choice only)
    "tcc": [], "tcc_bf": [], "scc": [], "scc_bf": [], "ccc": [],
    "rs": ["method.max_tries=4"], "majority": ["method.samples=4"], "bf_extend": ["method.num_ignore=2"],
}
ALWAYS_WITHIN = {"tcc_bf", "scc_bf", "rs"}


@pytest.mark.parametrize("method", list(METHOD_RUNS))
def test_every_method_runs_through_the_cli_and_writes_rows(default_run, cache, tmp_path, method):
    r = run_cli([f"method={method}", "benchmark=[tiny-choice]", *METHOD_RUNS[method]], cache, tmp_path / method)
    assert r.returncode == 0, r.stderr[-3000:]
    res = _results(tmp_path / method)
    rows = res["results"]
    assert rows and all(x["method"] == method and x["benchmark"] == "tiny-choice" for x in rows)
    for row in rows:
        samples = [json.loads(x) for x in (tmp_path / method / row["samples"]).read_text().splitlines()]
        assert len(samples) == 100
        if method != "majority":  # majority's rows hold maj@k over the votes, checked below
            assert row["accuracy"] == pytest.approx(sum(x["correct"] for x in samples) / len(samples))
        if method in ALWAYS_WITHIN:
            assert row["within_budget_rate"] == 1.0 and row["max_thinking_tokens"] <= row["budget_tokens"], row
        elif method in ("tcc", "scc", "ccc"):  # real control, measured not forced
            assert row["within_budget_rate"] == pytest.approx(sum(x["within_budget"] for x in samples) / len(samples))
            assert row["forced_end_rate"] == 0.0 and not any(x["forced_end"] for x in samples)
    if method in ("tcc", "tcc_bf", "scc", "scc_bf"):  # trained on the matching trace format
        assert res["sft"]["trace_format"] == ("tokens" if method.startswith("tcc") else "steps")
        prompt = json.loads((tmp_path / method / rows[0]["samples"]).read_text().splitlines()[0])["prompt"]
        unit = "tokens" if method.startswith("tcc") else "steps"
        assert f"Think for up to {rows[0]['budget']} {unit}." in prompt
    if method == "scc_bf":
        assert [x["budget_tokens"] for x in rows] == [32 * x["budget"] for x in rows]
    if method == "ccc":
        assert [x["variant"] for x in rows] == ["short", "long"]
    if method == "rs":
        assert all(x["mean_tries"] >= 1 for x in rows)
    if method == "majority":
        assert [x["k"] for x in rows] == [1, 2, 4]
        assert rows[2]["mean_thinking_tokens"] == pytest.approx(4 * rows[0]["mean_thinking_tokens_per_sample"])
    if method == "bf_extend":
        assert [x["num_ignore"] for x in rows] == [0, 1, 2]
        assert rows[0]["mean_thinking_tokens"] < rows[2]["mean_thinking_tokens"]


# ---------------------------------------------------------------- experiment tracking

FAKE_KEY = "local-0123456789abcdef0123456789abcdef01234567"


def test_wandb_offline_run_holds_the_metrics_curves_and_tables(default_run, cache, tmp_path, monkeypatch):
    import glob

    monkeypatch.setenv("WANDB_API_KEY", FAKE_KEY)  # must never reach a file or a log line
    run_dir = tmp_path / "wb"
    r = run_cli(["logger=wandb", "benchmark=[tiny-choice]", "method.budgets=[32,96]"], cache, run_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "logged to wandb (offline)" in r.stdout
    res = _results(run_dir)
    offline = glob.glob(str(run_dir / "wandb" / "offline-run-*"))
    assert len(offline) == 1
    tables = {p.split("/")[-1].split("_")[0]: json.loads(open(p).read())
              for p in glob.glob(offline[0] + "/files/media/table/*.table.json")}
    # The results table: one row per results row, the same accuracies.
    cols = tables["results"]["columns"]
    got = {(row[cols.index("budget")]): row[cols.index("accuracy")] for row in tables["results"]["data"]}
    assert got == {row["budget"]: row["accuracy"] for row in res["results"]}
    assert len(tables["samples"]["data"]) == 2 * 20  # samples_per_row for each results row
    # History, summary and config live in the binary run log: the keys and values are there.
    blob = open(glob.glob(offline[0] + "/run-*.wandb")[0], "rb").read()
    for key in (b"eval/tiny-choice/bf-96/accuracy", b"sft/loss", b"sft/learning_rate", b"selection=s1k",
                b"method=bf", b"within_budget_rate"):
        assert key in blob, key
    # No API key anywhere: run dir files, stdout, stderr.
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert FAKE_KEY not in r.stdout + r.stderr
