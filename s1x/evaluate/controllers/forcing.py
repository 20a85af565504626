"""What every controller shares, without torch: the token ids that forcing writes
(:class:`ForcingTokens`, from the model's own tokenizer), the kind of each generated token, and
the record of one forced generation (:class:`ForcedSample`). Kept apart from the one-pass logits
processor (:mod:`~s1x.evaluate.controllers.budget_forcing`) so the config checks and the
results code load no torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from s1x.formatting import end_of_turn_id

# What each generated token was, for the per-sample record of segments.
KIND_THINK, KIND_IGNORE, KIND_DELIM, KIND_ANSWER = "think", "forced_ignore", "delimiter", "answer"


@dataclass(frozen=True)
class ForcingTokens:
    """Token ids the processor needs, from the model's own tokenizer.

    With a BPE vocabulary the delimiter is several ids (SmolLM2: ``<|im_start|>``
    ``answer``), so the model's own end of thinking is detected at its first id,
    which must be a token of its own (a special token) that text never produces
    (:meth:`from_tokenizer` checks). A line can end in many tokens (``\n``,
    ``\n\n``, `` \n``, ...): ``line_ends`` holds every id whose text ends in a
    newline, so a cut adds a newline only where the text does not end in one."""

    end_sequence: list[int]  # delimiter + answer prefix; end_sequence[0] opens the delimiter
    newline: int
    ignore: list[int]  # the ignore string, e.g. "Wait"
    end_of_turn: int
    line_ends: frozenset[int] = frozenset()  # ids whose text ends in a newline (newline itself included)

    def ends_line(self, token_id: int) -> bool:
        """Whether the text so far, ending in ``token_id``, ends at a line end."""
        return token_id == self.newline or token_id in self.line_ends

    @classmethod
    def from_tokenizer(cls, tokenizer, delimiter: str, answer_prefix: str, ignore_str: str) -> "ForcingTokens":
        """Encode the delimiter, answer prefix and ignore string with ``tokenizer``."""
        def enc(s: str) -> list[int]:
            return tokenizer(s, add_special_tokens=False)["input_ids"]

        newline = enc("\n")[-1]
        end_sequence = enc(f"{delimiter}\n{answer_prefix}")
        opener = end_sequence[0]
        special = set(tokenizer.all_special_ids) | set(tokenizer.get_added_vocab().values())
        if opener not in special:
            raise ValueError(f"the end-of-thinking delimiter {delimiter!r} starts with "
                             f"{tokenizer.decode([opener])!r} for this tokenizer, which ordinary text also produces; "
                             "budget forcing needs the delimiter to open with a special token (<|im_start|>)")
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        return cls(
            end_sequence=end_sequence,
            newline=newline,
            # The empty ignore string (a paper variant) still needs a token to stand in
            # for the suppressed delimiter: a newline, so thinking just goes on.
            ignore=(enc(ignore_str) if ignore_str else []) or [newline],
            end_of_turn=end_of_turn_id(tokenizer),
            line_ends=frozenset(i for i, t in enumerate(texts) if t.endswith("\n")),
        )


@dataclass
class ForcedSample:
    """One budget-forced generation with its exact accounting."""

    token_ids: list[int] = field(default_factory=list)  # generated tokens (prompt excluded), end of turn included
    kinds: list[str] = field(default_factory=list)  # think | forced_ignore | delimiter | answer, per token
    thinking_tokens: int = 0
    answer_tokens: int = 0
    ignores_used: int = 0
    forced_end: bool = False
    stop_reason: str = "eos"  # eos | length
    rounds: list[dict] = field(default_factory=list)  # per engine request: phase, tokens, finish, what was forced
    snapshots: list[int] = field(default_factory=list)  # thinking length at each suppressed end (prefix sharing)

    def extend(self, ids: Sequence[int], kind: str) -> None:
        self.token_ids.extend(ids)
        self.kinds.extend([kind] * len(ids))
        if kind in (KIND_THINK, KIND_IGNORE):
            self.thinking_tokens += len(ids)
        elif kind == KIND_ANSWER:
            self.answer_tokens += len(ids)
