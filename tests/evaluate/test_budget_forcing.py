"""The one-pass budget-forcing processor, driven by scripted "models" greedily."""

import torch

from s1x.formatting import THINK_END
from s1x.evaluate.controllers.forcing import ForcingTokens
from s1x.evaluate.controllers.budget_forcing import BudgetForcingProcessor
from s1x.world.tokenizer import build_tokenizer

TOK = build_tokenizer()
IDS = lambda s: TOK(s, add_special_tokens=False)["input_ids"]  # noqa: E731


def _drive(scripts, budget, num_ignore=0, min_thinking=0, max_answer_tokens=4, steps=200):
    """Greedy decoding where row i's model always prefers the next token of scripts[i]
    (restarting the script after an ignore string, like a model that re-concludes)."""
    tokens = ForcingTokens.from_tokenizer(TOK, THINK_END, "Answer:", "Wait")
    proc = BudgetForcingProcessor(len(scripts), tokens, budget, min_thinking, num_ignore, max_answer_tokens)
    prompt = IDS("<|im_start|>think\n")
    seqs = [list(prompt) for _ in scripts]
    pos = [0] * len(scripts)
    done = [False] * len(scripts)
    for _ in range(steps):
        scores = torch.full((len(scripts), len(TOK) + 10), -5.0)
        for i, script in enumerate(scripts):
            scores[i, script[min(pos[i], len(script) - 1)]] = 5.0
        out = proc(torch.tensor(seqs), scores).argmax(-1).tolist()
        for i, t in enumerate(out):
            if done[i]:
                t = TOK.pad_token_id
            elif t == scripts[i][min(pos[i], len(scripts[i]) - 1)]:
                pos[i] += 1
            seqs[i].append(t)
            done[i] = done[i] or t == tokens.end_of_turn
        if all(done):
            break
    generated = [s[len(prompt):] for s in seqs]
    proc.finish([g[: g.index(tokens.end_of_turn) + 1] if tokens.end_of_turn in g else g for g in generated])
    return proc, [TOK.decode(g).replace("<|endoftext|>", "") for g in generated]


LONG_THINK, SHORT_THINK = "A1:0+1=1\nB2:1+2=3\nC3:3+3=6\nD4:6+4=10\n", "A1:0+1=1\n"
LONG = IDS(LONG_THINK + "<|im_start|>answer\nAnswer: 10<|im_end|>")
SHORT = IDS(SHORT_THINK + "<|im_start|>answer\nAnswer: 1<|im_end|>")
N_LONG, N_SHORT = len(IDS(LONG_THINK)), len(IDS(SHORT_THINK))  # 32 and 8 thinking tokens


def test_cap_forces_delimiter_and_prefix_exactly_at_the_budget():
    assert (N_LONG, N_SHORT) == (32, 8)
    for budget in (1, 5, 8, 9, 20, 31, 32, 40):
        proc, texts = _drive([LONG, SHORT], budget)
        long_row = proc.rows[0]
        assert long_row.thinking_tokens == min(budget, N_LONG)
        assert long_row.forced_end is (budget < N_LONG)
        assert "<|im_start|>answer\nAnswer:" in texts[0]
        assert texts[0].endswith("<|im_end|>")
        # The short row ends by itself when the budget allows it.
        assert proc.rows[1].thinking_tokens == min(budget, N_SHORT)
        assert proc.rows[1].forced_end is (budget < N_SHORT)
        if budget < N_LONG:  # the cut: thinking so far, a newline unless at a line end, delimiter + prefix
            think = TOK.decode(LONG[:budget])
            newline = "" if think.endswith("\n") else "\n"
            assert texts[0].startswith(think + newline + "<|im_start|>answer\nAnswer:")
        assert all(r.thinking_tokens <= budget for r in proc.rows)


def test_no_budget_forces_nothing_in_thinking():
    proc, texts = _drive([LONG], None)
    assert texts[0] == TOK.decode(LONG)
    assert proc.rows[0].thinking_tokens == N_LONG and not proc.rows[0].forced_end
    assert proc.rows[0].answer_tokens == 2  # " " and "10"


def test_ignore_string_extends_thinking_n_times():
    proc, texts = _drive([SHORT], budget=100, num_ignore=2)
    row = proc.rows[0]
    assert row.ignores_used == 2
    assert texts[0].count("Wait") == 2
    # The scripted model wants to stop right after its one line each time:
    # its line, then one "Wait" token per suppressed end.
    assert row.thinking_tokens == N_SHORT + 2
    assert texts[0].startswith(SHORT_THINK + "WaitWait<|im_start|>answer\nAnswer:")
    assert row.kinds.count("forced_ignore") == 2


def test_min_thinking_suppresses_an_early_end():
    proc, _ = _drive([SHORT], budget=100, min_thinking=10)
    assert proc.rows[0].thinking_tokens >= 10


def test_answer_is_capped():
    runaway = IDS("A1:0+1=1\n<|im_start|>answer\nAnswer: 1 2 3 4 5 6 7 8 9<|im_end|>")
    proc, texts = _drive([runaway], budget=None, max_answer_tokens=3)
    assert proc.rows[0].answer_tokens == 3
    assert texts[0].endswith("<|im_end|>")
