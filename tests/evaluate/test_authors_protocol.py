"""controller=authors is the authors' loop token for token: against a re-statement of their
``_model_generate`` (tests/authors_reference.py, no s1x code) under greedy decoding, on the tiny
world's fine-tuned model and on SmolLM2-135M-Instruct (a real BPE chat model), for num_ignore
0 (their path without thinking_n_ignore), 1 and 2, with caps that end thinking by length and by
stop; ``thinking_tokens`` equals their count.
"""

import json

import pytest

from authors_reference import ReferenceLLM, authors_generate

SMOL_QUESTIONS = ["Compute 3*7.", "What is the capital of France?", "Say hi."]


def _controller_runs(engine, tok, prompts, cap, num_ignore, max_answer_tokens):
    from s1x.evaluate.controllers.authors import AuthorsProtocol, AuthorsTokens, run_authors

    protocol = AuthorsProtocol(num_ignore=num_ignore or None, max_answer_tokens=max_answer_tokens)
    return run_authors(engine, prompts, AuthorsTokens.build(tok, protocol), protocol, cap)


def _compare(engine, tok, prompts, settings, max_answer_tokens):
    """Both loops under every (cap, num_ignore); returns what each setting exercised."""
    seen = []
    reference = ReferenceLLM(engine.model, tok)
    for cap, num_ignore in settings:
        runs = _controller_runs(engine, tok, prompts, cap, num_ignore, max_answer_tokens)
        want, counts = authors_generate(reference, tok, prompts, cap, num_ignore or None, max_gen_toks=max_answer_tokens)
        for run, seq, count in zip(runs, want, counts):
            got = run.prompt_ids + run.sample.token_ids
            assert got == seq, (cap, num_ignore, tok.decode(got[len(run.prompt_ids):]), tok.decode(seq[len(run.prompt_ids):]))
            assert run.sample.thinking_tokens == count
            think = [r for r in run.sample.rounds if r["phase"] == "think"]
            seen.append((num_ignore, think[-1]["finish_reason"], run.sample.ignores_used, count == cap))
            # Every round asks for the full cap; min_tokens=1 only on their thinking_n_ignore path.
            assert all(r["max_new_tokens"] == cap and r["min_new_tokens"] == (1 if num_ignore else 0) for r in think)
    return seen


def test_authors_loop_on_the_tiny_model_is_the_reference_token_for_token(default_run):
    from s1x.engines.hf_generate import HFEngine
    from s1x.formatting import prompt_text
    from s1x.models import load_tokenizer
    from s1x.world import tasks

    ckpt = json.loads((default_run[0] / "checkpoint.json").read_text())["path"]
    tok = load_tokenizer(ckpt)
    engine = HFEngine(ckpt, tok, batch_size=16)
    qs = tasks.generate(12, seed=3, split="test", choice_share=0.3)
    prompts = [tok(prompt_text(tok, q.question), add_special_tokens=False)["input_ids"] for q in qs]
    seen = _compare(engine, tok, prompts, [(12, 0), (200, 0), (12, 1), (40, 1), (200, 2), (30, 2)], 16)
    finishes = {(n, f) for n, f, _, _ in seen}
    # Thinking ended by the cap and by the model's own stop, with and without ignores.
    assert {(0, "length"), (0, "stop"), (1, "length"), (2, "stop")} <= finishes, finishes
    assert any(n == 2 and used == 2 for n, _, used, _ in seen)  # two "Wait"s appended
    assert any(n and at_cap for n, _, _, at_cap in seen)  # cut to the cap after a Wait


@pytest.fixture(scope="module")
def smol(smollm2):
    from s1x.engines.hf_generate import HFEngine
    from s1x.formatting import prompt_text
    from s1x.models import load_tokenizer

    tok = load_tokenizer(smollm2)
    engine = HFEngine(smollm2, tok, batch_size=8, device="cpu", dtype="float32")
    return engine, tok, [tok(prompt_text(tok, q), add_special_tokens=False)["input_ids"] for q in SMOL_QUESTIONS]


def test_authors_loop_on_smollm2_is_the_reference_token_for_token(smol):
    engine, tok, prompts = smol
    seen = _compare(engine, tok, prompts, [(24, 0), (48, 0), (24, 1), (24, 2)], 12)
    finishes = {(n, f) for n, f, _, _ in seen}
    assert {(0, "length"), (0, "stop"), (1, "stop"), (2, "stop")} <= finishes, finishes
    assert any(used == 2 for _, _, used, _ in seen) and any(at_cap for *_, at_cap in seen)


def test_authors_strings_and_the_length_end_on_smollm2(smol):
    """What their code sends, read back from the sequence: ``<|im_start|>think`` with no newline,
    ``Wait`` after a stop (the stop token removed), ``\\n<|im_start|>answer\\nFinal Answer:`` after a
    length end, plain ``<|im_start|>answer`` after a stop; and ``auto`` by their formula."""
    from s1x.evaluate.controllers.authors import AuthorsProtocol, AuthorsTokens, auto_cap

    engine, tok, prompts = smol
    (cut, stop, hi) = _controller_runs(engine, tok, prompts, 24, 1, 12)
    assert tok.decode(cut.prompt_ids).endswith("<|im_start|>assistant\n<|im_start|>think")
    enc = lambda s: tok(s, add_special_tokens=False).input_ids  # noqa: E731
    n = cut.sample.thinking_tokens
    assert cut.sample.forced_end and n == 24
    assert tok.decode(cut.sample.token_ids[n:]).startswith("\n<|im_start|>answer\nFinal Answer:")
    n = stop.sample.thinking_tokens
    thinking = tok.decode(stop.sample.token_ids[:n])
    assert not stop.sample.forced_end and stop.sample.ignores_used == 1 and "Wait" in thinking
    assert "<|im_end|>" not in thinking and "<|im_start|>" not in thinking  # the stop token went before Wait
    assert stop.sample.token_ids[n : n + 2] == enc("<|im_start|>answer")
    tokens = AuthorsTokens.build(tok, AuthorsProtocol())
    longest = max(len(p) for p in prompts)
    assert auto_cap(prompts, tokens, 32768) == 32768 - longest - len(enc("<|im_start|>think")) \
        - len(enc("<|im_start|>answer\nFinal Answer:")) - 100
    with pytest.raises(ValueError, match="max_answer_tokens"):
        auto_cap(prompts, tokens, 120)
