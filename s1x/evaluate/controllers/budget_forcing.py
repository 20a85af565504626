"""Budget forcing in one ``generate`` pass: a logits processor that keeps the KV cache.

Per row it tracks the phase (thinking, answering, done) and counts tokens:

- while thinking, every token the model writes and every forced ignore string
  (e.g. ``Wait``) counts as a thinking token;
- when the model's next token would end thinking (greedy argmax is
  ``<|im_start|>`` or the end of turn) and ignores remain (or thinking is below
  ``min_thinking``) and the ignore string fits the budget, it forces the ignore
  string instead and thinking goes on; otherwise it completes the model's own
  end with the delimiter and the answer prefix;
- at the cap (``thinking == budget``) it forces the end-of-thinking delimiter
  and the answer prefix the SFT data uses (``<|im_start|>answer\\nAnswer:``),
  preceded by a newline when the model stopped mid-line; that newline belongs
  to the delimiter, so thinking never exceeds the budget (``forced_end``);
- an end of turn is never sampled inside thinking, so every sample gets an answer;
- the answer is capped at ``max_answer_tokens`` (then end-of-turn is forced),
  so one runaway row cannot hold the batch.

With ``budget=None`` nothing is forced in thinking (the evaluate stage always
passes a cap: the budget, or ``max_thinking_tokens`` for unbudgeted methods).
:mod:`s1x.evaluate.controllers.rounds` (s1x's exact-budget rounds) states the same
rules over any engine; under greedy decoding both give identical tokens.
Forcing sets every other logit to -inf, so it holds under any later
temperature or top-p warper. Ignore detection reads the argmax and therefore
needs greedy decoding; the config validation enforces that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch
from transformers import LogitsProcessor

from s1x.evaluate.controllers.forcing import KIND_ANSWER, KIND_DELIM, KIND_IGNORE, KIND_THINK, ForcedSample, ForcingTokens

THINK, ANSWER, DONE = 0, 1, 2


@dataclass
class RowState:
    """Exact per-sample accounting of one generation."""

    phase: int = THINK
    thinking_tokens: int = 0  # model tokens + forced ignore tokens before the delimiter
    answer_tokens: int = 0  # model tokens after the delimiter and answer prefix, end of turn excluded
    ignores_used: int = 0
    forced_end: bool = False  # thinking was cut at the budget
    queue: list[int] = field(default_factory=list)  # tokens still to force
    queue_kind: str = ""
    last_kind: str | None = None  # kind of the token chosen at the previous step
    last_token: int = -1
    kinds: list[str] = field(default_factory=list)  # kind of every generated token
    snapshots: list[int] = field(default_factory=list)  # thinking length at each suppressed end


class BudgetForcingProcessor(LogitsProcessor):
    """Logits processor implementing budget forcing for one batch (see module docstring)."""

    def __init__(
        self,
        batch_size: int,
        tokens: ForcingTokens,
        budget: int | None,
        min_thinking: int = 0,
        num_ignore: int = 0,
        max_answer_tokens: int = 32,
    ):
        if budget is not None and budget <= 0:
            raise ValueError(f"budget must be positive, got {budget}")
        self.tokens = tokens
        self.budget = budget
        self.min_thinking = min_thinking
        self.num_ignore = num_ignore
        self.max_answer_tokens = max_answer_tokens
        self.rows = [RowState() for _ in range(batch_size)]
        self._started = False

    def _consume(self, row: RowState, token: int) -> None:
        """Account for the token generated at the previous step."""
        kind = row.last_kind
        if kind == KIND_THINK and token == self.tokens.end_sequence[0]:
            # The model ended thinking by itself: complete the delimiter and answer
            # prefix exactly as at a cut, so every sample is parsed the same way.
            kind, row.phase = KIND_DELIM, ANSWER
            row.queue, row.queue_kind = list(self.tokens.end_sequence[1:]), KIND_DELIM
        row.kinds.append(kind)
        row.last_token = token
        if kind in (KIND_THINK, KIND_IGNORE):
            row.thinking_tokens += 1
        elif kind == KIND_ANSWER:
            if token == self.tokens.end_of_turn:
                row.phase = DONE
            else:
                row.answer_tokens += 1

    def _decide(self, row: RowState, argmax: int) -> int | None:
        """The token to force at this step for ``row``, or None to let the model choose."""
        if row.queue:
            row.last_kind = row.queue_kind
            return row.queue.pop(0)
        if row.phase == THINK:
            at_cap = self.budget is not None and row.thinking_tokens >= self.budget
            if argmax in (self.tokens.end_sequence[0], self.tokens.end_of_turn):  # the model ends thinking
                ignore_fits = self.budget is None or row.thinking_tokens + len(self.tokens.ignore) < self.budget
                must_go_on = row.ignores_used < self.num_ignore or row.thinking_tokens < self.min_thinking
                if ignore_fits and must_go_on:
                    row.snapshots.append(row.thinking_tokens)
                    row.ignores_used += 1
                    row.queue, row.queue_kind = list(self.tokens.ignore), KIND_IGNORE
                    return self._decide(row, argmax)
                if argmax == self.tokens.end_of_turn or at_cap:
                    # Its own end (or at the cap anyway): the delimiter and answer prefix.
                    row.queue, row.queue_kind = list(self.tokens.end_sequence), KIND_DELIM
                    row.phase = ANSWER
                    return self._decide(row, argmax)
                # Otherwise the model picks: greedy takes the delimiter (completed in _consume);
                # a sampled continuation is the model's choice, not forced by the argmax.
                row.last_kind = KIND_THINK
                return None
            if at_cap:
                newline = [] if self.tokens.ends_line(row.last_token) else [self.tokens.newline]
                row.queue, row.queue_kind = newline + list(self.tokens.end_sequence), KIND_DELIM
                row.forced_end, row.phase = True, ANSWER
                return self._decide(row, argmax)
            row.last_kind = KIND_THINK
            return None
        row.last_kind = KIND_ANSWER
        if row.answer_tokens >= self.max_answer_tokens:
            return self.tokens.end_of_turn
        return None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        last = input_ids[:, -1].tolist()
        argmax = scores.argmax(dim=-1).tolist()
        forced_rows, forced_ids, free_thinking = [], [], []
        for i, row in enumerate(self.rows):
            if self._started and row.phase != DONE:
                self._consume(row, last[i])
            elif not self._started:
                row.last_token = last[i]  # the prompt's last token
            if row.phase == DONE:
                continue
            tok = self._decide(row, argmax[i])
            if tok is not None:
                forced_rows.append(i)
                forced_ids.append(tok)
            elif row.phase == THINK:
                free_thinking.append(i)
        self._started = True
        if free_thinking:  # a sampled end of turn inside thinking would leave no answer
            scores[torch.tensor(free_thinking), self.tokens.end_of_turn] = float("-inf")
        if forced_rows:
            rows = torch.tensor(forced_rows)
            scores[rows] = float("-inf")
            scores[rows, torch.tensor(forced_ids)] = 0.0
        return scores

    def finish(self, generated: list[list[int]]) -> None:
        """Account for the final generated token of each row (generate stops before calling again)."""
        for row, ids in zip(self.rows, generated):
            if row.phase != DONE and len(row.kinds) < len(ids):
                self._consume(row, ids[len(row.kinds)])


def run_one_pass(engine, prompts: Sequence[Sequence[int]], tokens: ForcingTokens, cap: int, *, num_ignore: int = 0,
                 min_thinking: int = 0, max_answer_tokens: int = 32, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int = 0, desc: str = "generate") -> list[ForcedSample]:
    """Budget forcing with thinking capped at ``cap``, one ``generate`` per batch (HF engine)."""
    if cap <= 0:
        raise ValueError(f"thinking cap must be positive, got {cap}")
    # Room for: thinking, a newline + delimiter + answer prefix, the answer, end of turn.
    max_new = cap + 1 + len(tokens.end_sequence) + max_answer_tokens + 1

    def factory(batch_size: int) -> BudgetForcingProcessor:
        return BudgetForcingProcessor(batch_size, tokens, cap, min_thinking=min_thinking, num_ignore=num_ignore,
                                      max_answer_tokens=max_answer_tokens)

    out = []
    for c in engine.generate(prompts, max_new, factory, temperature=temperature, top_p=top_p, seed=seed, desc=desc):
        row = c.processor.rows[c.row]
        out.append(ForcedSample(token_ids=c.token_ids, kinds=row.kinds[: len(c.token_ids)],
                                thinking_tokens=row.thinking_tokens, answer_tokens=row.answer_tokens,
                                ignores_used=row.ignores_used, forced_end=row.forced_end, stop_reason=c.stop_reason,
                                rounds=[{"phase": "one_pass", "max_new_tokens": max_new, "tokens": len(c.token_ids)}],
                                snapshots=list(row.snapshots)))
    return out
