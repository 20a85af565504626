"""Every method under controller=authors on the tiny world's fine-tuned model, through the evaluate
stage's evaluator: the record fields each method writes (prompt ends, suffixes, tries, maj@k rows),
and bf_extend's shared generation equal to separate runs of their loop. The token-for-token
comparison of every method with their loop is tests/evaluate/test_authors_reference_methods.py."""

import json

import pytest

from conftest import compose_config


@pytest.fixture(scope="module")
def tiny(default_run):
    from s1x.engines.hf_generate import HFEngine
    from s1x.data.benchmarks import load_benchmark
    from s1x.models import load_tokenizer

    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    tok = load_tokenizer(ckpt)
    questions = load_benchmark(compose_config().benchmark["tiny-mixed"])[:6]
    return HFEngine(ckpt, tok, batch_size=16), tok, questions


def _evaluate(tiny, tmp_path, overrides):
    from s1x.evaluate.evaluator import evaluate_benchmark

    engine, tok, questions = tiny
    method = compose_config(overrides + ["method.controller=authors"]).method
    rows = evaluate_benchmark(engine, tok, questions, "tiny-mixed", method, 0, tmp_path)
    return rows, {r["samples"]: [json.loads(x) for x in open(tmp_path / r["samples"])] for r in rows}


def test_every_method_runs_the_authors_way(tiny, tmp_path):
    cases = {
        "none": ["method=none", "method.max_answer_tokens=160"],
        "bf": ["method=bf", "method.budgets=[40]", "method.num_ignore=1", "method.max_answer_tokens=16"],
        "tcc": ["method=tcc", "method.budgets=[32]", "method.max_thinking_tokens=120", "method.max_answer_tokens=16"],
        "tcc_bf": ["method=tcc_bf", "method.budgets=[32]", "method.max_answer_tokens=16"],
        "scc": ["method=scc", "method.budgets=[2]", "method.max_thinking_tokens=120", "method.max_answer_tokens=16"],
        "scc_bf": ["method=scc_bf", "method.budgets=[2]", "method.max_thinking_tokens=120", "method.max_answer_tokens=16"],
        "ccc": ["method=ccc", "method.max_thinking_tokens=120", "method.max_answer_tokens=16"],
        "rs": ["method=rs", "method.budgets=[64]", "method.max_tries=3", "method.max_answer_tokens=16"],
        "majority": ["method=majority", "method.samples=2", "method.max_thinking_tokens=120", "method.max_answer_tokens=16"],
    }
    for name, overrides in cases.items():
        rows, samples = _evaluate(tiny, tmp_path / name, overrides)
        assert rows and all(r["controller"] == "authors" for r in rows if "controller" in r), name
        records = next(iter(samples.values()))
        if name == "majority":  # its rows point to the votes; the K samples per question sit beside them
            records = [json.loads(x) for x in open(tmp_path / name / "majority" / "samples.jsonl")]
            assert len(records) == 12 and {s["sample_index"] for s in records} == {0, 1}
        for s in records:
            assert s["controller"] == "authors" and s["rounds"][-1]["phase"] in ("answer", "unsplit")
            assert "stats_thinking_tokens" in s  # their compute_sample_stats count, beside s1x's
            assert s["thinking_tokens"] == sum(g["tokens"] for g in s["segments"] if g["kind"] in ("think", "forced_ignore"))
            if name == "none":  # their path with no thinking gen_kwargs: no think start added
                assert s["prompt"].endswith("<|im_start|>assistant\n") and "<|im_start|>answer" in s["response"]
            elif name == "scc_bf":  # their SCC+BF command: think start <|im_start|>, stop at <|im_start|>0
                assert s["prompt"].endswith("<|im_start|>assistant\n<|im_start|>")
            else:
                assert s["prompt"].endswith("<|im_start|>assistant\n<|im_start|>think")
            if name in ("bf", "tcc_bf", "rs"):
                assert s["thinking_tokens"] <= s["budget"] - (1 if name == "rs" and not s["rs_fallback"] else 0)
        if name in ("tcc", "tcc_bf"):
            assert all(s["question"] + "\n\nThink for up to 32 tokens." in s["prompt"] for s in records)
        if name in ("scc", "scc_bf"):
            assert all("\n\nThink for up to 2 steps." in s["prompt"] for s in records)
        if name == "ccc":
            short = [s for s in samples["ccc-short/samples.jsonl"]]
            assert all("Answer after a short amount of thinking." in s["prompt"] for s in short)
        if name == "rs":
            assert all(s["tries"] >= 1 for s in records) and "mean_tries" in rows[0]
        if name == "majority":
            assert [r["k"] for r in rows] == [1, 2]
        if name == "bf":
            assert any(s["ignores_used"] == 1 for s in records) and any(s["forced_end"] for s in records)


def test_bf_extend_under_authors_equals_separate_runs(tiny, tmp_path):
    """The run allowed i ignores is the shared generation up to its round i: its samples equal
    separate runs of their code with thinking_n_ignore=i (the re-statement in
    tests/authors_reference.py, no s1x code), response text and thinking count."""
    from authors_reference import ReferenceLLM, authors_generate, chat_prompt

    engine, tok, questions = tiny
    rows, samples = _evaluate(tiny, tmp_path, ["method=bf_extend", "method.num_ignore=2", "method.max_thinking_tokens=80",
                                               "method.max_answer_tokens=16"])
    assert [r["num_ignore"] for r in rows] == [0, 1, 2]
    prompts = [chat_prompt(tok, q.question) for q in questions]
    think_start = tok("<|im_start|>think", add_special_tokens=False).input_ids
    reference = ReferenceLLM(engine.model, tok)
    for i, row in enumerate(rows):
        want, counts = authors_generate(reference, tok, prompts, 80, i or None, max_gen_toks=16)
        for s, seq, prompt, count in zip(samples[row["samples"]], want, prompts, counts):
            assert s["response"] == tok.decode(seq[len(prompt) + len(think_start):]), (i, s["response"])
            assert s["thinking_tokens"] == count
    assert any(s["ignores_used"] == 2 for s in samples[rows[2]["samples"]])


def test_judge_grader_runs_through_the_cli_with_a_local_model(default_run, cache, tmp_path):
    """extra_graders=[judge] with judge.model: the judge is built from a local model through the
    hf engine in the evaluate stage and the disagreement report compares it with the letter grader
    (letters are no digits, so every answer reaches the LLM; the tiny model gives no verdicts)."""
    from conftest import run_cli

    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    run_dir = tmp_path / "run"
    r = run_cli(["stages=[evaluate]", f"model={ckpt}", "threads=1", "method=bf", "method.budgets=[96]",
                 "benchmark=[tiny-choice]", "benchmark.tiny-choice.size=8", "benchmark.tiny-choice.extra_graders=[judge]",
                 f"judge.model={ckpt}", "judge.max_new_tokens=4"], cache, run_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    (row,) = json.loads((run_dir / "results.json").read_text())["results"]
    samples = [json.loads(x) for x in open(run_dir / row["samples"])]
    assert all(set(s["grades"]) == {"choice", "judge"} and not s["grades"]["judge"] for s in samples)
    differ = [s["id"] for s in samples if len(set(s["grades"].values())) > 1]
    assert differ == [s["id"] for s in samples if s["correct"]] and differ  # right letters the judge did not confirm
    report = [json.loads(x) for x in open(run_dir / row["samples"].replace("samples.jsonl", "disagreements.jsonl"))]
    assert [d["id"] for d in report] == differ and row["grader_disagreements"] == len(differ)
    # Without a judge model the same command stops before any work, naming the key.
    r = run_cli(["stages=[evaluate]", f"model={ckpt}", "benchmark=[tiny-mixed]",
                 "benchmark.tiny-mixed.extra_graders=[judge]"], cache, tmp_path / "run2")
    assert r.returncode == 2 and "judge.model" in r.stderr


def test_an_over_long_question_is_sent_under_authors_and_skipped_under_s1x(tiny, tmp_path):
    """Their code has no room check: a prompt longer than the engine's context goes to the engine
    (vLLM then refuses it); s1x's controllers leave it out and count it (docs/fidelity.md, the row
    "a question that cannot fit the context")."""
    from dataclasses import replace

    from s1x.evaluate.evaluator import evaluate_benchmark

    engine, tok, questions = tiny
    long_q = replace(questions[0], id="over-long", question=" ".join([questions[0].question] * 40))
    qs = [long_q] + list(questions[1:3])
    sent = []
    real = engine.generate_requests

    def recording(requests, desc="generate"):
        sent.extend(len(r.prompt_ids) for r in requests)
        return real(requests, desc)

    context = engine.context_length
    engine.generate_requests, engine.context_length = recording, 120
    try:
        assert len(tok(long_q.question)["input_ids"]) > 120
        for controller, kept in (("authors", 3), ("rounds", 2)):
            sent.clear()
            method = compose_config(["method=bf", "method.budgets=[16]", "method.max_answer_tokens=8",
                                     f"method.controller={controller}"]).method
            (tmp_path / controller).mkdir()
            (row,) = evaluate_benchmark(engine, tok, qs, "tiny-mixed", method, 0, tmp_path / controller)
            ids = [json.loads(x)["id"] for x in open(tmp_path / controller / row["samples"])]
            assert len(ids) == kept and ("over-long" in ids) == (controller == "authors"), (controller, ids)
            assert (max(sent) > 120) == (controller == "authors")  # the engine got the over-long prompt or not
            assert row.get("n_skipped_context", 0) == 3 - kept
    finally:
        engine.generate_requests, engine.context_length = real, context
