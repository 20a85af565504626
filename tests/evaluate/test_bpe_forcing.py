"""Budget forcing with a real BPE tokenizer (SmolLM2's), driven by a scripted model.

What a word-level tokenizer hides: the delimiter ``<|im_start|>answer`` is several
ids and only its first (``<|im_start|>``, id 1, also the first id of
``<|im_start|>think``) marks the model's own end of thinking; a line can end in
``\\n\\n`` (one id), so "at a line end" is not "the last id is ``\\n``"; ``Wait``
and `` Wait`` are different ids. Both controllers (the one-pass processor and the
rounds over an engine) must give the same ids here, as on the tiny tokenizer.
"""

import pytest
import torch

from s1x.engines.vllm import VLLMEngine
from s1x.evaluate.controllers.forcing import ForcingTokens
from s1x.evaluate.controllers.budget_forcing import BudgetForcingProcessor
from s1x.evaluate.controllers.rounds import run_rounds
from s1x.formatting import THINK_END, THINK_START
from test_engines import FakeLLM, FakeSamplingParams


@pytest.fixture(scope="module")
def tok(smollm2):
    from s1x.models import load_tokenizer

    return load_tokenizer(smollm2)


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_smollm2_forcing_tokens(tok):
    t = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait")
    assert t.end_sequence[0] == 1 and len(t.end_sequence) == 5
    assert tok.decode(t.end_sequence) == "<|im_start|>answer\nAnswer:"
    assert _ids(tok, THINK_START)[0] == t.end_sequence[0]  # the think opener starts with the same id
    assert t.ignore == _ids(tok, "Wait") and t.ignore != _ids(tok, " Wait") and len(t.ignore) == 1
    assert t.end_of_turn == 2 == tok.convert_tokens_to_ids("<|im_end|>")
    for text in ("\n", "\n\n", " \n", "\r\n"):
        (i,) = _ids(tok, text)
        assert t.ends_line(i), repr(text)
    assert not any(t.ends_line(i) for i in _ids(tok, "So 2."))


def test_a_delimiter_that_is_not_a_special_token_is_refused():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.train_from_iterator(["<|im_start|>answer\nAnswer: 7 Wait"] * 20, trainers.BpeTrainer(vocab_size=300))
    plain = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>")
    with pytest.raises(ValueError, match="needs the delimiter to open with a special token"):
        ForcingTokens.from_tokenizer(plain, THINK_END, "Answer:", "Wait")


def _script(tok, lines_before_end=2):
    """A greedy "model": writes ``Step: 1 + 1 = 2.\\n\\n`` lines (each ending in the one id of
    ``\\n\\n``), wants to end thinking with ``<|im_start|>`` after ``lines_before_end`` lines since
    the last ``Wait``, and answers `` 2``."""
    line, wait, answer = _ids(tok, "Step: 1 + 1 = 2.\n\n"), _ids(tok, "Wait")[0], _ids(tok, " 2")
    prefix = _ids(tok, "Answer:")

    def next_token(context):
        for j in range(len(answer) + 1):  # after the answer prefix: the answer, then end of turn
            if context[len(context) - len(prefix) - j:len(context) - j] == prefix:
                return answer[j] if j < len(answer) else 2
        think = context[max(i for i, t in enumerate(context) if t == 1) + 3:]  # after <|im_start|>think\n
        since = think[max((i for i, t in enumerate(think) if t == wait), default=-1) + 1:]  # since the last Wait
        if since and since[-1] == line[-1] and since.count(line[-1]) >= lines_before_end:
            return 1
        line_start = max((i for i, t in enumerate(since) if t == line[-1]), default=-1) + 1
        return line[len(since) - line_start]

    return next_token


def _one_pass(tok, tokens, prompt, script, budget, num_ignore):
    proc = BudgetForcingProcessor(1, tokens, budget, 0, num_ignore, 8)
    seq = list(prompt)
    for _ in range(200):
        scores = torch.full((1, len(tok)), -5.0)
        scores[0, script(seq)] = 5.0
        t = proc(torch.tensor([seq]), scores).argmax(-1).item()
        seq.append(t)
        if t == tokens.end_of_turn:
            break
    proc.finish([seq[len(prompt):]])
    return proc.rows[0], seq[len(prompt):]


@pytest.mark.parametrize("budget, num_ignore", [(12, 0), (13, 0), (40, 0), (40, 1), (60, 2), (27, 1)])
def test_both_controllers_agree_on_bpe_ids(tok, budget, num_ignore):
    tokens = ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait")
    prompt = _ids(tok, "<|im_start|>user\nAdd.<|im_end|>\n<|im_start|>assistant\n" + THINK_START)
    script = _script(tok)
    row, ids = _one_pass(tok, tokens, prompt, script, budget, num_ignore)
    FakeLLM.script = staticmethod(script)
    engine = VLLMEngine("m", tok, llm_cls=FakeLLM, sampling_params_cls=FakeSamplingParams)
    (s,) = run_rounds(engine, [prompt], tokens, budget, num_ignore=num_ignore, max_answer_tokens=8)
    assert s.token_ids == ids and s.kinds == row.kinds
    assert (s.thinking_tokens, s.ignores_used, s.forced_end) == (row.thinking_tokens, row.ignores_used, row.forced_end)
    text = tok.decode(ids)
    line = "Step: 1 + 1 = 2.\n\n"
    assert row.thinking_tokens <= budget and text.endswith("<|im_start|>answer\nAnswer: 2<|im_end|>")
    if budget == 12:  # cut exactly after "\n\n" (12 ids): already at a line end, no newline added
        assert row.forced_end and text.startswith(line + "<|im_start|>answer")
    if budget == 13:  # cut one id into the next line: a newline before the delimiter, outside the budget
        assert row.forced_end and text.startswith(line + "Step\n<|im_start|>answer")
    if budget == 40 and num_ignore == 0:  # the model's own end after two lines, completed as the answer
        assert not row.forced_end and text == 2 * line + "<|im_start|>answer\nAnswer: 2<|im_end|>"
    if num_ignore:
        assert row.ignores_used == num_ignore and text.count("Wait") == num_ignore
        assert (2 * line + "Wait" + "Step") in text  # one id, no space: what the ignore string encodes to
