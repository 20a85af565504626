"""controller=authors through the vLLM adapter (the fake with vLLM's shapes of test_engines.py):
the SamplingParams of every round are the authors' (max_tokens = the full cap each round,
min_tokens=1 on their thinking_n_ignore path and 0 without it, their stop tokens), the engine
of setting=paper is built with dtype float32; and their rejection sampling's batch slots.
"""

import pytest

from test_engines import IDS, IM_END, IM_START, TOK, FakeLLM, FakeSamplingParams

from s1x.evaluate.controllers.authors import AuthorsProtocol, AuthorsTokens, run_authors
from s1x.formatting import prompt_text

LINE = IDS("A1:0+1=1\n")


def _three_round_model(context: list[int]) -> int:
    """Thinks one line and ends (<|im_start|>), twice; the third stretch of thinking never ends;
    answers 7 then ends the turn."""
    text = TOK.decode(context)
    tail = text.rsplit("<|im_start|>think", 1)[-1]
    if "<|im_start|>answer" in tail:
        return IDS("7")[0] if not tail.endswith("7") else IM_END
    segment = tail.split("Wait")[-1]
    if segment.endswith("\n") and tail.count("Wait") < 2:
        return IM_START
    pos = len(IDS(segment.rsplit("\n", 1)[-1]))
    return LINE[pos % len(LINE)]


@pytest.fixture
def paper_vllm(tmp_path, monkeypatch):
    """The engine setting=paper builds, over the fake LLM."""
    import s1x.engines.vllm as vllm_engine
    from conftest import compose_config
    from s1x.engines import make_engine

    TOK.save_pretrained(tmp_path / "m")
    FakeLLM.script = staticmethod(_three_round_model)
    monkeypatch.setattr(vllm_engine, "_vllm_classes", lambda: (FakeLLM, FakeSamplingParams))
    # The paper's GPU build (no vLLM needs to be installed for the fake: the platform is not asked).
    monkeypatch.setattr(vllm_engine, "vllm_platform", lambda: "cuda")
    cfg = compose_config(["setting=paper", "method=bf"])
    assert (cfg.engine.name, cfg.engine.dtype, cfg.method.controller) == ("vllm", "float32", "authors")
    return make_engine(cfg.engine, str(tmp_path / "m"))


def test_authors_rounds_send_their_sampling_params_to_vllm_in_float32(paper_vllm):
    engine = paper_vllm
    assert engine.llm.kwargs["dtype"] == "float32"
    prompt = IDS(prompt_text(TOK, "sum A1"))
    protocol = AuthorsProtocol(num_ignore=2, max_answer_tokens=5)
    cap = 30
    (run,) = run_authors(engine, [prompt], AuthorsTokens.build(TOK, protocol), protocol, cap)
    calls = [c[0] for c in engine.llm.calls]
    assert [c.max_tokens for c in calls] == [cap, cap, cap, 5]  # every round the full cap
    assert [c.min_tokens for c in calls] == [1, 1, 1, 0]
    for c in calls[:3]:
        assert c.stop_token_ids == sorted([IM_START, IM_END]) and c.temperature == 0.0
    assert calls[3].stop_token_ids == [IM_END]  # the answer stops only at the end of turn
    assert all(c.skip_special_tokens is False for c in calls)
    s = run.sample
    # One line (8 tokens) + Wait, one line + Wait, then thinking to the cap: cut at 30, by length.
    assert [r["finish_reason"] for r in s.rounds] == ["stop", "stop", "length", "stop"]
    assert s.ignores_used == 2 and s.thinking_tokens == cap and s.forced_end
    text = TOK.decode(s.token_ids)
    assert text.startswith("A1:0+1=1\nWait") and text.count("Wait") == 2
    assert "\n<|im_start|>answer\nFinal Answer:7<|im_end|>" in text  # mid-line cut: a newline first
    assert run.prompt_ids[-2:] == IDS("<|im_start|>think")  # no newline after the think start


def test_without_thinking_n_ignore_there_are_no_min_tokens_and_one_round(paper_vllm):
    engine = paper_vllm
    prompt = IDS(prompt_text(TOK, "sum A1"))
    protocol = AuthorsProtocol(num_ignore=None, max_answer_tokens=5)
    (run,) = run_authors(engine, [prompt], AuthorsTokens.build(TOK, protocol), protocol, 30)
    calls = [c[0] for c in engine.llm.calls]
    assert [(c.max_tokens, c.min_tokens) for c in calls] == [(30, 0), (5, 0)]
    assert calls[0].stop_token_ids == sorted([IM_START, IM_END])
    assert run.sample.thinking_tokens == len(LINE) and not run.sample.forced_end
    assert TOK.decode(run.sample.token_ids) == "A1:0+1=1\n<|im_start|>answer7<|im_end|>"


class _Scripted:
    """An engine whose n-th output for a question is scripted: lengths[q][n] thinking tokens
    (then a stop), so which sample each slot takes is visible."""

    tokenizer = TOK
    eos_id = IM_END

    def __init__(self, lengths):
        self.lengths, self.drawn, self.waves = lengths, {}, []

    def generate_requests(self, requests, desc=""):
        from s1x.engines.base import GenerationOutput

        outs, wave = [], []
        for r in requests:
            q = r.prompt_ids[3]  # the question's own token in the prompt below
            if r.max_new_tokens == 5:  # the answer
                outs.append([GenerationOutput([q], "", "stop", IM_END)])
                continue
            n = self.drawn.get(q, 0)
            self.drawn[q] = n + 1
            k = self.lengths[q][n]
            wave.append((q, k))
            body = [100 + n] * min(k, r.max_new_tokens)
            outs.append([GenerationOutput(body, "", "stop" if k < r.max_new_tokens else "length",
                                          IM_START if k < r.max_new_tokens else None)])
        if wave:
            self.waves.append(wave)
        return outs


def _reference_rs(lengths, cap):
    """Their rejection-sampling loop over the same script: which draw each question keeps."""
    n = len(lengths)
    drawn = {q: 0 for q in range(n)}
    outputs, requests = [None] * n, list(range(n))
    while True:
        outs = []
        for q in requests:
            k = lengths[q][drawn[q]]
            outs.append((q, drawn[q], min(k, cap + 1) + (1 if k < cap + 1 else 0)))  # ids incl. the stop
            drawn[q] += 1
        before = list(outputs)
        for j, o in enumerate(outs):
            if o[2] <= cap:
                if before[j] is None:
                    outputs[j] = o
                else:
                    for k, t in enumerate(before[j:] + before[:j]):
                        if t is None:
                            outputs[j + k if j + k < n else j + k - n] = o
                            break
        new = [requests[j] if outputs[j] is None else None for j in range(n)]
        if not any(x is not None for x in new):
            return outputs
        for j, r in enumerate(new):
            if r is None:
                for r2 in new[j:] + new[:j]:
                    if r2 is not None:
                        new[j] = r2
                        break
        requests = new


def test_authors_rejection_sampling_keeps_their_slots_and_counts_tries():
    from s1x.evaluate.controllers.authors_rs import run_authors_rs

    cap = 10
    # q0 fits at once; q1 on its 3rd draw; q2 on its 2nd; q3 never before its 5th draw.
    lengths = {0: [4, 3, 2, 1, 1, 1], 1: [20, 15, 6, 5, 4, 1, 1, 1, 1], 2: [30, 7, 2, 2, 2, 2, 2, 2], 3: [40] * 4 + [9] * 9}
    prompts = [[1, 2, 3, 200 + q, 4] for q in range(4)]
    engine = _Scripted({200 + q: v for q, v in lengths.items()})
    protocol = AuthorsProtocol(num_ignore=None, temperature=1.0, max_answer_tokens=5)
    picked = run_authors_rs(engine, prompts,
                            AuthorsTokens.build(TOK, protocol), protocol, cap)
    want = _reference_rs(lengths, cap)
    for q, (run, tries, fallback) in enumerate(picked):
        _, draw, n_ids = want[q]
        assert run.sample.token_ids[: run.sample.thinking_tokens] == [100 + draw] * (n_ids - 1)
        assert run.sample.thinking_tokens <= cap - 1 and not fallback
    assert all(len(w) == 4 for w in engine.waves)  # every wave resends a full batch (copies fill done slots)
    assert [t for _, t, _ in picked] == [1, 2, 2, 3]
    # s1x's cap on waves (method.max_tries=2): q3 never fits in time and gets their budget forcing at the cap.
    engine = _Scripted({200 + q: v for q, v in lengths.items()})
    picked = run_authors_rs(engine, prompts, AuthorsTokens.build(TOK, protocol), protocol, cap, max_tries=2)
    assert [(t, fb) for _, t, fb in picked] == [(1, False), (2, False), (2, False), (2, True)]
    forced = picked[3][0].sample
    assert forced.forced_end and forced.thinking_tokens == cap
    assert TOK.decode(forced.token_ids[cap:]).startswith("\n<|im_start|>answer\nFinal Answer:")


def test_scc_bf_stop_string_of_two_tokens_is_checked_token_by_token(paper_vllm):
    """Their SCC + BF stops thinking at ``<|im_start|>0`` (a stop string): ``<|im_start|>1`` goes
    on, ``<|im_start|>0`` ends it and is removed; the think start is ``<|im_start|>`` alone."""
    from s1x.evaluate.controllers.authors import SCC_BF_THINK_START, SCC_BF_UNTIL

    engine = paper_vllm
    prompt = IDS(prompt_text(TOK, "sum A1"))
    plan = LINE + [IM_START] + IDS("1") + LINE + [IM_START] + IDS("0") + LINE * 3
    start = len(prompt) + 1  # the think start is one token here

    def scc_model(ctx):
        text = TOK.decode(ctx)
        if text.endswith("<|im_start|>answer"):
            return IDS("7")[0]
        return IM_END if text.endswith("<|im_start|>answer7") else plan[len(ctx) - start]

    FakeLLM.script = staticmethod(scc_model)
    protocol = AuthorsProtocol(num_ignore=None, think_start=SCC_BF_THINK_START, until_thinking=SCC_BF_UNTIL,
                               max_answer_tokens=5)
    (run,) = run_authors(engine, [prompt], AuthorsTokens.build(TOK, protocol), protocol, 50)
    calls = [c[0] for c in engine.llm.calls]
    # Up to the first <|im_start|>; one token ("1": go on); on to the next; one token ("0": stop); the answer.
    assert [c.max_tokens for c in calls] == [50, 1, 40, 1, 5]
    assert calls[0].stop_token_ids == sorted([IM_START, IM_END])
    s = run.sample
    assert s.token_ids[: s.thinking_tokens] == LINE + [IM_START] + IDS("1") + LINE
    assert TOK.decode(s.token_ids[s.thinking_tokens:]) == "<|im_start|>answer7<|im_end|>"
    assert run.prompt_ids[-1] == IM_START and s.rounds[0]["requests"] == 4
