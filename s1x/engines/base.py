"""The engine interface every test-time method is written against.

A request is token ids in, token ids out, with the knobs the s1 methods need
(max/min new tokens, stop ids, temperature, top-p, seed, n). Every engine
(``hf``: transformers models with KV cache; ``vllm``: offline ``LLM``; ``openai``: any
OpenAI-compatible server; a registered one) answers with the same semantics:

- the completion never contains the stop id that ended it (it is reported in
  ``stop_id``; vLLM drops special stop tokens itself, HF keeps them, the
  adapters normalize);
- ``finish_reason`` is ``"stop"`` when a stop id (or the end-of-turn token)
  ended generation, ``"length"`` when ``max_new_tokens`` did;
- until ``min_new_tokens`` tokens exist, stop ids and end-of-turn cannot be
  generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt and how to continue it."""

    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    min_new_tokens: int = 0
    stop_ids: tuple[int, ...] = ()  # besides the end-of-turn token, which always stops
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    seed: int = 0
    n: int = 1  # samples of this prompt

    def __post_init__(self):
        if self.max_new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be positive, got {self.max_new_tokens}")


@dataclass
class GenerationOutput:
    """One sample of one request."""

    token_ids: list[int]
    text: str
    finish_reason: str  # "stop" | "length"
    stop_id: int | None = None  # the stop id (or end-of-turn id) that ended it
    meta: dict = field(default_factory=dict)


class Engine(Protocol):
    """What a test-time method needs from an engine."""

    tokenizer: object
    eos_id: int

    def generate_requests(self, requests: Sequence[GenerationRequest], desc: str = "generate") -> list[list[GenerationOutput]]:
        """The ``n`` outputs of every request, in request order."""
        ...
