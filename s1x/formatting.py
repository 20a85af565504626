"""The s1 chat format: question as the user turn, ``think``/``answer`` segments as the assistant turn.

Training text (PAPER.md section 2)::

    <chat template prompt for the user question><|im_start|>assistant\\n
    <|im_start|>think\\n{trace}\\n<|im_start|>answer\\nAnswer: {attempt}<|im_end|>

Loss is taken only on the assistant part, from ``<|im_start|>think`` through
``<|im_end|>``. Prompt and completion are tokenized separately and joined:
the boundary falls before a special token, so no tokenizer merges across it,
and the label mask is exact by construction.

Trace formats for token- and step-conditional control (PAPER.md section 3),
``sft.trace_format``:

- ``plain``: the trace as written;
- ``tokens``: the question ends with ``Think for up to B tokens.`` and the trace
  is cut at line ends into chunks of about ``chunk_tokens`` tokens, each headed
  by ``N tokens left`` (N = B minus the thinking tokens before the marker,
  markers included); B is the annotated length rounded up to a chunk;
- ``steps``: the question ends with ``Think for up to S steps.`` and each chunk
  (a step) is headed by ``N steps left``;
- ``steps_authors``: as ``steps`` with each marker opened by ``<|im_start|>``
  (``<|im_start|>N steps left``), the markers of the authors' step-conditioned model
  (their ``eval/rebase/tot/rebase_utils.py`` splits its output on
  ``<|im_start|>\d+ steps left\n``); their SCC+BF stop ``<|im_start|>0`` fires only on it.

A model trained on one of them learns to read the bound in the prompt and count
down; at test time ``method=tcc``/``scc`` state the budget the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

THINK_START = "<|im_start|>think\n"
THINK_END = "<|im_start|>answer"  # the end-of-thinking delimiter
ANSWER_PREFIX = "Answer:"  # what the SFT data writes before every answer
END_OF_TURN = "<|im_end|>"
IGNORE_INDEX = -100
TRACE_FORMATS = ("plain", "tokens", "steps", "steps_authors")
# The countdown each format trains: what its prompts state (``Think for up to B tokens/S steps.``).
COUNTDOWN_UNIT = {"plain": None, "tokens": "tokens", "steps": "steps", "steps_authors": "steps"}
STEP_MARKER_OPEN = {"steps": "", "steps_authors": "<|im_start|>"}


def answer_text(attempt: str) -> str:
    """The attempt with ``Answer: `` prefixed unless it already contains it (the paper's rule)."""
    return attempt if ANSWER_PREFIX in attempt else f"{ANSWER_PREFIX} {attempt}"


def end_of_turn_id(tokenizer) -> int:
    """The id of ``<|im_end|>``, which the s1 format ends every turn with; the tokenizer's eos
    only when the vocabulary has no such token (Qwen2.5 *base* tokenizers say eos=<|endoftext|>)."""
    tid = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    if isinstance(tid, int) and tid != tokenizer.unk_token_id:
        return tid
    return tokenizer.convert_tokens_to_ids(tokenizer.eos_token)


def budget_statement(trace_format: str, bound: int) -> str:
    """What the prompt says about the thinking bound in the ``tokens``/``steps`` formats."""
    unit = COUNTDOWN_UNIT[trace_format]
    return f"Think for up to {bound} {unit}."


def with_statement(question: str, statement: str | None) -> str:
    """The question followed by a prompt statement (a budget, a think-briefly hint), if any."""
    return f"{question}\n\n{statement}" if statement else question


def _n_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def split_steps(tokenizer, trace: str, chunk_tokens: int) -> list[str]:
    """Cut ``trace`` at line ends into chunks of at least ``chunk_tokens`` tokens (the last may be
    shorter; a longer line stays whole). Blank-line paragraphs of real traces stay together."""
    chunks, lines = [], []
    used = 0
    for line in trace.split("\n"):
        lines.append(line)
        used += _n_tokens(tokenizer, line) + 1
        if used >= chunk_tokens and line.strip():
            chunks.append("\n".join(lines))
            lines, used = [], 0
    if lines and "\n".join(lines).strip():
        chunks.append("\n".join(lines))
    elif lines and chunks:  # trailing blank lines belong to the last chunk
        chunks[-1] += "\n" + "\n".join(lines)
    return chunks or [trace]


def annotate_trace(tokenizer, trace: str, trace_format: str, chunk_tokens: int) -> tuple[str, int | None]:
    """The trace in ``trace_format`` and the bound its prompt states (None for ``plain``)."""
    if trace_format == "plain":
        return trace, None
    chunks = split_steps(tokenizer, trace, chunk_tokens)
    if trace_format in STEP_MARKER_OPEN:
        n, open_ = len(chunks), STEP_MARKER_OPEN[trace_format]
        return "\n".join(f"{open_}{n - i} steps left\n{c}" for i, c in enumerate(chunks)), n
    if trace_format != "tokens":
        raise ValueError(f"trace_format={trace_format!r}: must be one of {TRACE_FORMATS}")
    sizes = [_n_tokens(tokenizer, c) + 1 for c in chunks]  # +1: the newline that ends each chunk
    bound = math.ceil(sum(sizes) / chunk_tokens) * chunk_tokens
    while True:  # marker lengths depend on the numbers they print, so settle the bound by iteration
        used, parts = 0, []
        for c, size in zip(chunks, sizes):
            marker = f"{bound - used} tokens left"
            used += _n_tokens(tokenizer, marker) + 1 + size
            parts.append(f"{marker}\n{c}")
        if used <= bound:  # the newline before the delimiter is a thinking token too
            return "\n".join(parts), bound
        bound += chunk_tokens


def prompt_text(tokenizer, question: str) -> str:
    """The chat-templated user turn followed by the assistant header (no thinking yet)."""
    messages = [{"role": "user", "content": question}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def generation_prompt(tokenizer, question: str) -> str:
    """What generation starts from: the prompt plus the opening think delimiter."""
    return prompt_text(tokenizer, question) + THINK_START


def completion_text(trace: str, attempt: str) -> str:
    """The assistant turn the model learns: think segment, answer segment, end of turn. The
    trace and the answer are stripped, as the authors' ``data/tokenization.py`` does."""
    return f"{THINK_START}{trace.strip()}\n{THINK_END}\n{answer_text(attempt).strip()}{END_OF_TURN}"


@dataclass
class EncodedExample:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on the prompt; token ids on the completion
    n_tokens: int  # length before any truncation
    truncated: bool


def encode_example(tokenizer, question: str, trace: str, attempt: str, block_size: int,
                   trace_format: str = "plain", chunk_tokens: int = 100) -> EncodedExample:
    """Tokenize one SFT example with completion-only labels; cut to ``block_size`` and say so.

    With ``trace_format`` tokens/steps the trace carries countdown markers and the
    question states the bound (see the module docstring)."""
    trace, bound = annotate_trace(tokenizer, trace, trace_format, chunk_tokens)
    if bound is not None:
        question = with_statement(question, budget_statement(trace_format, bound))
    prompt_ids = tokenizer(prompt_text(tokenizer, question), add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion_text(trace, attempt), add_special_tokens=False)["input_ids"]
    ids = prompt_ids + completion_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + completion_ids
    n = len(ids)
    return EncodedExample(ids[:block_size], labels[:block_size], n, n > block_size)
