"""Budget forcing in one ``generate`` pass: a logits processor that keeps the KV cache.

Per row it tracks the phase (thinking, answering, done) and counts tokens:

- while thinking, every token the model writes and every forced ignore string
  (e.g. ``Wait``) counts as a thinking token;
- at the cap (``thinking == budget``) it forces the end-of-thinking delimiter
  and the answer prefix the SFT data uses (``<|im_start|>answer\\nAnswer:``),
  preceded by a newline when the model stopped mid-line; that newline belongs
  to the delimiter, so thinking never exceeds the budget;
- when the model's next token would open the delimiter (greedy argmax is
  ``<|im_start|>``) and ignores remain (or thinking is below ``min_thinking``),
  it forces the ignore string instead and thinking goes on;
- the answer is capped at ``max_answer_tokens`` (then end-of-turn is forced),
  so one runaway row cannot hold the batch.

With ``budget=None`` nothing is forced in thinking: that is ``method=none``.
Forcing sets every other logit to -inf, so it holds under any later
temperature or top-p warper. Ignore detection reads the argmax and therefore
needs greedy decoding; the config validation enforces that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from transformers import LogitsProcessor

THINK, ANSWER, DONE = 0, 1, 2

# What each generated token was, for the per-sample record of segments.
KIND_THINK, KIND_IGNORE, KIND_DELIM, KIND_ANSWER = "think", "forced_ignore", "delimiter", "answer"


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


@dataclass(frozen=True)
class ForcingTokens:
    """Token ids the processor needs, from the model's own tokenizer."""

    end_sequence: list[int]  # delimiter + answer prefix; end_sequence[0] opens the delimiter
    newline: int
    ignore: list[int]  # the ignore string, e.g. "Wait"
    end_of_turn: int

    @classmethod
    def from_tokenizer(cls, tokenizer, delimiter: str, answer_prefix: str, ignore_str: str) -> "ForcingTokens":
        """Encode the delimiter, answer prefix and ignore string with ``tokenizer``."""
        def enc(s: str) -> list[int]:
            return tokenizer(s, add_special_tokens=False)["input_ids"]

        newline = enc("\n")[-1]
        return cls(
            end_sequence=enc(f"{delimiter}\n{answer_prefix}"),
            newline=newline,
            # The empty ignore string (a paper variant) still needs a token to stand in
            # for the suppressed delimiter: a newline, so thinking just goes on.
            ignore=(enc(ignore_str) if ignore_str else []) or [newline],
            end_of_turn=tokenizer.convert_tokens_to_ids(tokenizer.eos_token),
        )


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
            wants_to_stop = argmax == self.tokens.end_sequence[0]
            # At the cap a model that ends by itself is not forced (same text either way).
            if self.budget is not None and row.thinking_tokens >= self.budget and not wants_to_stop:
                newline = [] if row.last_token == self.tokens.newline else [self.tokens.newline]
                row.queue, row.queue_kind = newline + list(self.tokens.end_sequence), KIND_DELIM
                row.forced_end, row.phase = True, ANSWER
                return self._decide(row, argmax)
            ignore_fits = self.budget is None or row.thinking_tokens + len(self.tokens.ignore) < self.budget
            must_go_on = row.ignores_used < self.num_ignore or row.thinking_tokens < self.min_thinking
            if wants_to_stop and ignore_fits and must_go_on:
                row.ignores_used += 1
                row.queue, row.queue_kind = list(self.tokens.ignore), KIND_IGNORE
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
        forced_rows, forced_ids = [], []
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
        self._started = True
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
