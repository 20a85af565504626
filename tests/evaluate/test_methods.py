"""What each test-time method plans, the auto thinking room, and the config errors of the methods."""

import re

import pytest

from conftest import compose_config
from s1x.evaluate.generation import thinking_room
from s1x.evaluate.methods.sampled import vote_ks
from s1x.formatting import THINK_END
from s1x.evaluate.controllers.forcing import ForcingTokens
from s1x.evaluate.methods.kinds import plan_cells
from s1x.errors import ConfigError
from s1x.config.checks import validate
from s1x.world.tokenizer import build_tokenizer


def _method(*overrides):
    return compose_config(list(overrides)).method


def test_each_method_plans_its_cells():
    cells = plan_cells(_method("method=bf"))
    assert [(c.label, c.budget, c.cap, c.statement) for c in cells][:2] == [("bf-8", 8, 8, None), ("bf-16", 16, 16, None)]
    tcc = plan_cells(_method("method=tcc"))
    assert [(c.budget_tokens, c.cap, c.statement) for c in tcc][0] == (32, None, "Think for up to 32 tokens.")
    assert [c.cap for c in plan_cells(_method("method=tcc_bf"))] == [32, 64, 96, 128]
    scc = plan_cells(_method("method=scc_bf"))  # steps of sft.chunk_tokens = 32 tokens
    assert [(c.budget, c.budget_tokens, c.cap) for c in scc] == [(1, 32, 32), (2, 64, 64), (3, 96, 96), (4, 128, 128)]
    assert scc[1].statement == "Think for up to 2 steps."
    ccc = plan_cells(_method("method=ccc"))
    assert [(c.variant, c.statement, c.budget_tokens, c.cap) for c in ccc] == [
        ("short", "Think briefly.", 48, None), ("long", "Think long.", 512, None)]
    assert [c.label for c in plan_cells(_method("method=none"))] == ["none"]
    assert [(c.budget, c.cap) for c in plan_cells(_method("method=rs"))][0] == (32, None)
    assert [c.label for c in plan_cells(_method("method=bf_extend"))] == ["bf_extend"]


def test_vote_ks_default_to_powers_of_two_and_k():
    assert vote_ks(_method("method=majority")) == [1, 2, 4, 8]
    assert vote_ks(_method("method=majority", "method.samples=6")) == [1, 2, 4, 6]
    assert vote_ks(_method("method=majority", "method.vote_ks=[4,2]")) == [2, 4]


class _Engine:
    context_length = 1024


def test_auto_thinking_room_is_the_context_left():
    tok = build_tokenizer()
    tokens = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait")
    m = _method("method=none", "method.max_thinking_tokens=auto")
    prompts = [[1] * 100, [1] * 120]
    room = thinking_room(m, _Engine(), prompts, tokens)
    assert room == 1024 - 120 - (1 + len(tokens.end_sequence) + 32 + 1)
    with pytest.raises(ValueError, match="max_thinking_tokens=auto leaves"):
        thinking_room(m, _Engine(), [[1] * 1000], tokens)
    assert thinking_room(_method("method=none"), _Engine(), prompts, tokens) == 512


@pytest.mark.parametrize("overrides, key", [
    (["method=rs", "method.temperature=0"], "method.temperature"),
    (["method=majority", "method.temperature=0"], "method.temperature"),
    (["method=majority", "method.vote_ks=[16]"], "method.vote_ks"),
    (["method=tcc", "method.budgets=null"], "method.budgets"),
    (["method=bf", "method.max_thinking_tokens=lots"], "method.max_thinking_tokens"),
    (["method=bf", "method.max_thinking_tokens=0"], "method.max_thinking_tokens"),
    (["method=bf", "method.answer_each_ignore=true"], "method.answer_each_ignore"),
    (["method=none", "method.answer_each_ignore=true", "method.num_ignore=2"], "method.answer_each_ignore"),
    (["method=bf", "engine=vllm", "method.controller=one_pass"], "method.controller"),
    (["method=tcc", "sft.trace_format=plain"], "sft.trace_format"),
    (["method=tcc", "method.trace_format=steps", "sft.trace_format=steps"], "method.trace_format"),
    (["method=ccc", "method.classes=[]"], "method.classes"),
    (["method=bf", "method.top_p=0"], "method.top_p"),
    (["method.kind=beam"], "method.kind"),
])
def test_method_config_errors_name_the_key(overrides, key):
    with pytest.raises(ConfigError, match=re.escape(key)):
        validate(compose_config(overrides))


def test_the_method_picks_the_sft_trace_format():
    assert compose_config(["method=tcc"]).sft.trace_format == "tokens"
    assert compose_config(["method=scc_bf"]).sft.trace_format == "steps"
    assert compose_config(["method=bf"]).sft.trace_format == "plain"
    assert compose_config(["method=tcc", "setting=paper"]).sft.trace_format == "tokens"
    # Evaluating an existing model needs no matching SFT.
    validate(compose_config(["method=tcc", "stages=[evaluate]", "model=hub", "model.name_or_path=/m"]))
