"""The s1 chat format: question as the user turn, ``think``/``answer`` segments as the assistant turn.

Training text (PAPER.md section 2)::

    <chat template prompt for the user question><|im_start|>assistant\\n
    <|im_start|>think\\n{trace}\\n<|im_start|>answer\\nAnswer: {attempt}<|im_end|>

Loss is taken only on the assistant part, from ``<|im_start|>think`` through
``<|im_end|>``. Prompt and completion are tokenized separately and joined:
the boundary falls before a special token, so no tokenizer merges across it,
and the label mask is exact by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

THINK_START = "<|im_start|>think\n"
THINK_END = "<|im_start|>answer"  # the end-of-thinking delimiter
ANSWER_PREFIX = "Answer:"  # what the SFT data writes before every answer
END_OF_TURN = "<|im_end|>"
IGNORE_INDEX = -100


def answer_text(attempt: str) -> str:
    """The attempt with ``Answer: `` prefixed unless it already contains it (the paper's rule)."""
    return attempt if ANSWER_PREFIX in attempt else f"{ANSWER_PREFIX} {attempt}"


def prompt_text(tokenizer, question: str) -> str:
    """The chat-templated user turn followed by the assistant header (no thinking yet)."""
    messages = [{"role": "user", "content": question}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def generation_prompt(tokenizer, question: str) -> str:
    """What generation starts from: the prompt plus the opening think delimiter."""
    return prompt_text(tokenizer, question) + THINK_START


def completion_text(trace: str, attempt: str) -> str:
    """The assistant turn the model learns: think segment, answer segment, end of turn."""
    return f"{THINK_START}{trace}\n{THINK_END}\n{answer_text(attempt)}{END_OF_TURN}"


@dataclass
class EncodedExample:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on the prompt; token ids on the completion
    n_tokens: int  # length before any truncation
    truncated: bool


def encode_example(tokenizer, question: str, trace: str, attempt: str, block_size: int) -> EncodedExample:
    """Tokenize one SFT example with completion-only labels; cut to ``block_size`` and say so."""
    prompt_ids = tokenizer(prompt_text(tokenizer, question), add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion_text(trace, attempt), add_special_tokens=False)["input_ids"]
    ids = prompt_ids + completion_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + completion_ids
    n = len(ids)
    return EncodedExample(ids[:block_size], labels[:block_size], n, n > block_size)
