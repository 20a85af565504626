"""Majority vote as the authors' Figure 4b runs: maj@k over the first k samples (``first_k``)
with votes grouped by verified equivalence, and ``split_thinking=false`` (one plain generation,
no thinking delimiter), each against a re-statement of their code written here:

- ``tasks/{aime,openai_math}/utils.py`` ``process_results``: each answer is first mapped by their
  LLM to an option, ``[gold] + earlier answers``, when it matches one; then
  ``maj@i = int(gt == Counter(extracted_answers[:i]).most_common(1)[0][0])``;
- their path without thinking gen_kwargs: the chat template's prompt (assistant header, no
  ``<|im_start|>think``), one generation until the end of turn.
"""

import json
import random
from collections import Counter

import pytest
import torch

from conftest import compose_config
from s1x.evaluate.votes import GOLD_VOTE, maj_first_k, rule_equal, vote_keys
from s1x.grading import grade
from s1x.records import BenchmarkQuestion
from s1x.config.checks import validate


def _authors_maj(extracted: list[str], gt: str, i: int) -> int:
    """Their maj@i over answers already mapped to options."""
    return int(gt == Counter(extracted[:i]).most_common(1)[0][0])


def _authors_mapping(answers: list[str], gt: str, same) -> list[str]:
    """Their LLM's option mapping, with ``same`` standing in for the LLM's equivalence: the
    gold first, then the earlier (already mapped) answers in first-seen order."""
    out = []
    for a in answers:
        options = [gt] + [o for o in dict.fromkeys(out) if o != gt]
        out.append(next((o for o in options if same(a, o)), a))
    return out


def test_first_k_equals_the_authors_counter_on_random_votes():
    rng = random.Random(0)
    checked = 0
    for _ in range(400):
        n = rng.choice([2, 4, 8, 16])
        answers = [rng.choice("ABCDE") for _ in range(n)]
        gt = "A"
        keys = vote_keys(answers, [a == gt for a in answers], lambda a, b: a == b)
        for i in [2 ** j for j in range(n.bit_length())]:
            assert maj_first_k(keys, i) == bool(_authors_maj(answers, gt, i)), (answers, i)
            checked += 1
    assert checked > 1000


def test_first_k_groups_votes_by_math_equivalence_not_by_string():
    gt = "3"
    answers = ["1/2", "3", "0.5", "\\frac{1}{2}", "3"]
    same = lambda a, b: grade(a, b, "math").correct  # noqa: E731 - math-verify in place of their LLM
    correct = [same(a, gt) for a in answers]
    keys = vote_keys(answers, correct, rule_equal("math"))
    assert keys == ["1/2", GOLD_VOTE, "1/2", "1/2", GOLD_VOTE]
    mapped = _authors_mapping(answers, gt, same)
    for k in range(1, 6):
        assert maj_first_k(keys, k) == bool(_authors_maj(mapped, gt, k)), k
    assert not maj_first_k(keys, 5)  # the three halves outvote the two 3s
    assert Counter(answers).most_common(1)[0][0] == "3"  # as raw strings the 3s would win


def test_first_k_and_split_thinking_are_the_paper_settings_and_compose():
    cfg = compose_config(["setting=paper", "method=majority"])
    validate(cfg)
    m = cfg.method
    assert (m.split_thinking, m.maj_estimator, m.samples, m.temperature) == (False, "first_k", 64, 1.0)
    assert list(cfg.stages) == ["evaluate"]  # the base model, as their commands
    second = compose_config(["setting=paper", "method=majority", "method.split_thinking=true", "method.num_ignore=2"])
    validate(second)
    assert (second.method.split_thinking, second.method.num_ignore, second.method.ignore_str) == (True, 2, "Wait")
    tiny = compose_config(["method=majority"]).method
    assert (tiny.split_thinking, tiny.maj_estimator) == (True, "subsets")
    validate(compose_config(["method=majority", "method.split_thinking=false", "method.maj_estimator=first_k"]))


@pytest.fixture(scope="module")
def random_tiny(tmp_path_factory):
    """A random tiny model and the HF engine: enough to check what is generated from which prompt."""
    from s1x.engines.hf_generate import HFEngine
    from s1x.world.pretrain import build_model
    from s1x.world.tokenizer import build_tokenizer

    tok = build_tokenizer()
    path = tmp_path_factory.mktemp("tiny")
    model = build_model(tok, {"layers": 2, "hidden": 64, "ffn": 128, "heads": 4, "kv_heads": 2}, seed=1)
    model.save_pretrained(path)
    tok.save_pretrained(str(path / "tokenizer"))
    return HFEngine(str(path), tok, batch_size=8), tok, model.eval()


def _greedy_plain(model, tok, question: str, max_new: int) -> list[int]:
    """Their plain path, greedy: the chat template's generation prompt, argmax until the end of turn."""
    text = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True)
    ids = list(tok(text, add_special_tokens=False)["input_ids"])
    out = []
    with torch.no_grad():
        for _ in range(max_new):
            nxt = int(model(input_ids=torch.tensor([ids + out])).logits[0, -1].argmax())
            out.append(nxt)
            if nxt == tok.eos_token_id:
                break
    return out


@pytest.mark.parametrize("controller", ["authors", "rounds"])
def test_split_thinking_false_is_one_plain_generation(random_tiny, tmp_path, controller):
    from s1x.evaluate.evaluator import evaluate_benchmark

    engine, tok, model = random_tiny
    questions = [BenchmarkQuestion(f"q{i}", q, "even", "exact") for i, q in enumerate(["A3:even+odd=?", "A1:odd=?"])]
    method = compose_config(["method=majority", "method.samples=1", "method.temperature=0", "method.split_thinking=false",
                             "method.max_thinking_tokens=12", "method.max_answer_tokens=12",
                             f"method.controller={controller}"]).method
    rows = evaluate_benchmark(engine, tok, questions, "t", method, 0, tmp_path)
    records = [json.loads(x) for x in open(tmp_path / "majority" / "samples.jsonl")]
    cap = 12 if controller == "authors" else 24  # authors: max_gen_toks; s1x: thinking + answer room
    for q, r in zip(questions, records):
        assert "<|im_start|>think" not in r["prompt"] and r["prompt"].endswith("<|im_start|>assistant\n")
        want = _greedy_plain(model, tok, q.question, cap)
        assert r["response"] == tok.decode(want), (r["response"], tok.decode(want))
    assert rows[0]["k"] == 1


def test_majority_refuses_ignores_it_would_drop_under_s1x_controllers():
    """Their second Majority command (thinking extended by Wait) runs under controller=authors; under
    s1x's controllers majority samples once per question, so an ignore count is refused, not dropped."""
    from s1x.errors import ConfigError

    over = ["method=majority", "method.samples=1", "method.temperature=0", "method.num_ignore=2"]
    with pytest.raises(ConfigError, match="method.num_ignore"):
        validate(compose_config([*over, "method.controller=rounds"]))
    validate(compose_config([*over, "method.controller=authors"]))
