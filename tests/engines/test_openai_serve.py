"""engine=openai against a real ``transformers serve`` of the smol run's SmolLM2 checkpoint.

Under greedy decoding the served model computes what ``engine=hf`` computes (both
are transformers ``generate`` at batch 1 on the same weights); the one thing the
HTTP path changes is tokenization: the server takes the prompt as text and returns
text, which s1x re-tokenizes with the model's tokenizer. So the test compares the
two engines' texts for ``method=none`` and ``method=bf`` (no ignores) on 4 questions:
every sample must be identical, except one the test names and proves was changed by
the text path: at the first token where the two differ, the HF ids up to and including
it do not survive decode -> encode (or the model wrote a special token there, which a
server's text drops). Any other difference fails.
"""

import json
import uuid

import pytest

from conftest import compose_config

SECRET = f"s1x-secret-{uuid.uuid4().hex}"  # an API key that must appear in no file and no log


@pytest.fixture(scope="module")
def checkpoint(smol_checkpoint):
    return smol_checkpoint


@pytest.fixture(scope="module")
def served(smol_served):
    """The session's server (conftest.py), shared with the other tests that talk to it."""
    return smol_served


def _proven_retokenization(tok, sample, served_text: str) -> str | None:
    """Why the served text differs from the HF sample, proven at the first differing token, or None:
    the HF ids through that token do not round-trip through decode -> encode, or the model wrote
    a special token there (a server's text skips special tokens)."""
    ids = sample.token_ids
    served = tok(served_text, add_special_tokens=False)["input_ids"]
    i = next((k for k, (a, b) in enumerate(zip(ids, served)) if a != b), min(len(ids), len(served)))
    if i < len(ids) and ids[i] in tok.all_special_ids and sample.kinds[i] in ("think", "answer"):
        return f"token {i}: the model wrote special token {tok.convert_ids_to_tokens([ids[i]])}, dropped from the text"
    head = ids[: i + 1]
    again = tok(tok.decode(head), add_special_tokens=False)["input_ids"]
    if again != head:
        return (f"token {i}: hf ids {head[-3:]} ({[tok.decode([t]) for t in head[-3:]]}) re-encode as "
                f"{again[len(head) - 3:len(head)]}: the text path cannot carry them")
    return None


def test_openai_engine_gives_the_text_of_the_hf_engine_under_greedy(served, checkpoint, cache, tmp_path, monkeypatch,
                                                                     capfd):
    from s1x import pipeline
    from s1x.data.benchmarks import load_benchmark
    from s1x.engines.hf_generate import HFEngine
    from s1x.evaluate.generation import generate_forced, question_prompts
    from s1x.evaluate.controllers.forcing import ForcingTokens
    from s1x.formatting import THINK_END
    from s1x.models import load_tokenizer

    url, log = served
    monkeypatch.setenv("S1X_TEST_API_KEY", SECRET)
    tok = load_tokenizer(checkpoint)
    hf = HFEngine(checkpoint, tok, batch_size=1)  # batch 1, as the server decodes: no padding in either
    same, differences, compared = 0, [], 0
    for method in ("none", "bf"):
        cfg = compose_config(["setting=smol", f"method={method}", "stages=[evaluate]", "model=hub",
                              f"model.name_or_path={checkpoint}", "benchmark=[smol-arith]", "engine=openai",
                              f"engine.base_url={url}", "engine.api_key_env=S1X_TEST_API_KEY", "engine.concurrency=4",
                              f"paths.cache_dir={cache}"])
        run_dir = tmp_path / method
        rows = pipeline.run(cfg, run_dir)["results"]
        questions = load_benchmark(cfg.benchmark["smol-arith"])[:4]
        prompts = question_prompts(tok, questions, None)[1]
        # The server reads the prompt as text: it must tokenize to the ids s1x means.
        assert all(tok(tok.decode(p))["input_ids"] == p for p in prompts)
        tokens = ForcingTokens.from_tokenizer(tok, THINK_END, cfg.method.answer_prefix, cfg.method.ignore_str)
        for row in rows:
            assert row["controller"] == "rounds" and row["n"] == 4 and row["within_budget_rate"] in (1.0, None)
            cap = row["budget"] or cfg.method.max_thinking_tokens
            reference = generate_forced(hf, prompts, tokens, cap, cfg.method, "one_pass", seed=cfg.seed)
            served_samples = [json.loads(x) for x in (run_dir / row["samples"]).read_text().splitlines()]
            for q, s, h in zip(questions, served_samples, reference):
                compared += 1
                assert s["thinking_tokens"] <= cap
                if s["response"] == tok.decode(h.token_ids):
                    same += 1
                    continue
                why = _proven_retokenization(tok, h, s["response"])
                differences.append((method, cap, q.id, why, s["response"], tok.decode(h.token_ids)))
    print(f"\nopenai vs hf: {same} of {compared} samples identical")
    for d in differences:
        print("openai vs hf differs:", d)
    assert compared == 4 * 3  # none, bf-16, bf-64
    unproven = [d for d in differences if d[3] is None]
    assert not unproven, f"samples that differ with no re-tokenization at the first differing token: {unproven}"
    # The key: in no file s1x wrote (run dirs, stage cache), not in the server's log, not in our output.
    out, err = capfd.readouterr()
    assert SECRET not in out + err and SECRET not in log.read_text()
    for root in (tmp_path, cache):
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                assert SECRET.encode() not in path.read_bytes(), path


JUDGE_CASES = [  # (question, prediction, gold, the right verdict)
    ("What is 2 + 3?", "Answer: 5", "5", True),
    ("What is 4 x 2?", "Answer: 9", "8", False),
    ("What is the capital of France?", "Answer: Paris", "Paris", True),
    ("What is 10 - 7?", "Answer: 4", "3", False),
]


def test_the_judge_and_a_wrong_model_name_over_the_real_server(served, checkpoint):
    """The judge over chat completions gives, case for case, the verdict (and the reply) the same
    model gives through transformers ``generate`` here under greedy decoding on the chat template;
    SmolLM2-135M's agreement with the right verdicts is printed (a 135M judge is not asserted right)."""
    import torch
    from transformers import AutoModelForCausalLM

    from s1x.engines.openai import OpenAIEngine
    from s1x.engines import make_engine
    from s1x.grading.judge import judge_grade_many, judge_prompt, parse_verdict
    from s1x.models import load_tokenizer
    from s1x.errors import ConfigError

    url, _ = served
    tok = load_tokenizer(checkpoint)
    engine = OpenAIEngine(url, checkpoint, tok)
    questions, predictions, golds, right = zip(*JUDGE_CASES)
    grades = judge_grade_many(list(questions), list(predictions), list(golds),
                              lambda p, t, s: engine.chat(p, t, s, max_tokens=24), retries=0)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    for (q, _, gold, _), g in zip(JUDGE_CASES, grades):
        ids = tok.apply_chat_template([{"role": "user", "content": judge_prompt(q, gold, g.extracted)}],
                                      add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=24, do_sample=False)
        local = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        assert g.reply == local[-500:], (q, g.reply, local)
        assert (g.correct, g.undecided) == (bool(parse_verdict(local)), parse_verdict(local) is None)
    print(f"\nSmolLM2 judge over the server: {sum(g.correct == r for g, r in zip(grades, right))} of "
          f"{len(right)} verdicts right")
    cfg = compose_config(["engine=openai", f"engine.base_url={url}", "engine.model=no-such-model"])
    with pytest.raises(ConfigError, match=r"engine.model='no-such-model' is not served"):
        make_engine(cfg.engine, checkpoint)
