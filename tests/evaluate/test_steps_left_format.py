"""trace_format=steps_authors: the step markers of the authors' step-conditioned model,
``<|im_start|>N steps left``, checked against how their code reads that model's output
(re-stated here: ``eval/rebase/tot/rebase_utils.py`` splits on ``<|im_start|>\\d+ steps left\\n``
and drops the ``\\n<|im_start|>`` before the next marker; ``eval/compute_sample_stats.py``
counts ``' steps left\\n'``), and against their SCC+BF stop string ``<|im_start|>0``."""

import re

from conftest import compose_config
from s1x.evaluate.controllers.authors import SCC_BF_THINK_START, SCC_BF_UNTIL
from s1x.formatting import annotate_trace, budget_statement, encode_example, split_steps
from s1x.config.checks import validate
from s1x.world import tasks
from s1x.world.tokenizer import build_tokenizer


def _authors_steps(text: str) -> list[str]:
    """Their reading of a steps-left output (rebase_utils.convert_text_to_reward_format_qwen_steps_left:
    split on the markers, drop a ``\n<|im_start|>``, strip each step)."""
    return [s.replace("\n<|im_start|>", "").strip()
            for s in re.split(r"<\|im_start\|>\d+ steps left\n", text)[1:]]


def _long_trace() -> str:
    return max((p.trace for p in tasks.generate(40, seed=3)), key=len)


def test_steps_left_markers_split_as_the_authors_code_splits_them():
    tok = build_tokenizer()
    trace = _long_trace()
    chunks = split_steps(tok, trace, 8)
    assert len(chunks) >= 3
    text, bound = annotate_trace(tok, trace, "steps_authors", 8)
    assert bound == len(chunks) == text.count(" steps left\n")  # compute_sample_stats' step count
    assert _authors_steps(text) == [c.strip() for c in chunks]
    assert re.findall(r"<\|im_start\|>(\d+) steps left\n", text) == [str(bound - i) for i in range(bound)]
    # s1x's own format has the same steps without the opening special token: their split finds none.
    plain, _ = annotate_trace(tok, trace, "steps", 8)
    assert plain == text.replace("<|im_start|>", "") and _authors_steps(plain) == []


def test_steps_left_countdown_reaching_zero_fires_the_authors_stop():
    """A model counting past its budget writes ``<|im_start|>0 steps left``: its token ids begin
    with the ids of their stop string, and no earlier marker does; in ``steps`` the stop never occurs."""
    tok = build_tokenizer()
    stop = tok(SCC_BF_UNTIL, add_special_tokens=False)["input_ids"]
    assert stop[0] == tok.convert_tokens_to_ids(SCC_BF_THINK_START)
    over_text, n = annotate_trace(tok, _long_trace(), "steps_authors", 8)
    overrun = over_text + "\n<|im_start|>0 steps left\n"  # one step past the countdown

    def stop_at(ids):
        return next((i for i in range(len(ids)) if ids[i:i + len(stop)] == stop), None)

    ids = tok(overrun, add_special_tokens=False)["input_ids"]
    first = stop_at(ids)
    # The stop fires at the zero marker, after every step of the countdown.
    assert first is not None and tok.decode(ids[:first]) == tok.decode(tok(over_text + "\n", add_special_tokens=False)
                                                                        ["input_ids"])
    plain_ids = tok(overrun.replace("<|im_start|>", ""), add_special_tokens=False)["input_ids"]
    assert stop_at(plain_ids) is None


def test_steps_left_format_is_the_paper_settings_for_scc_and_scc_bf():
    for method in ("scc", "scc_bf"):
        cfg = compose_config(["setting=paper", f"method={method}"])
        validate(cfg)
        assert cfg.method.trace_format == cfg.sft.trace_format == "steps_authors", method
    assert compose_config(["method=scc_bf"]).method.trace_format == "steps"  # the tiny world keeps s1x's
    tok = build_tokenizer()
    e = encode_example(tok, "q", _long_trace(), "even", 4096, "steps_authors", 8)
    text = tok.decode(e.input_ids)
    assert budget_statement("steps_authors", 3) == "Think for up to 3 steps."
    assert "steps." in text and "<|im_start|>1 steps left" in text.replace("<|im_start|> ", "<|im_start|>")
