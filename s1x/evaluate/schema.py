"""Typed schemas of the ``method``, ``benchmark`` and ``engine`` config groups and of the
``judge`` key (registered by :mod:`s1x.config`).

Plain dataclasses; the engine schema is the engines' own (:mod:`s1x.engines.schema`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from s1x.engines.schema import EngineConfig


@dataclass
class ClassPrompt:
    """One class of class-conditional control (ccc): a generic prompt and the bound it asks for."""

    name: str = ""  # short | long
    text: str = ""  # appended to the question, e.g. "Think briefly."
    budget: int = 0  # the thinking tokens this class should stay within (what Control checks)


@dataclass
class MethodConfig:
    """A test-time method (PAPER.md section 3); every option is one ``conf/method`` file.

    ``budgets`` are thinking tokens, except for scc/scc_bf (steps of
    ``step_tokens`` tokens). Thinking is always capped at
    ``max_thinking_tokens`` (``auto``: the model's context minus the longest
    prompt and the answer room), and an answer is always produced after a cut.
    """

    name: str = "none"
    # none | bf | tcc | tcc_bf | scc | scc_bf | ccc | rs | majority (the code path; name is the label)
    kind: str = "none"
    # Thinking-token caps (or step bounds) to evaluate, one results row each; null: unconstrained.
    budgets: Optional[list[int]] = None
    # Hard limit on thinking for every method: a positive int, or "auto" (context room).
    max_thinking_tokens: Any = 512
    min_thinking_tokens: int = 0
    num_ignore: int = 0  # times to suppress the end of thinking and append ignore_str
    ignore_str: str = "Wait"
    answer_prefix: str = "Answer:"  # forced after the delimiter; must match the SFT data
    max_answer_tokens: int = 32
    temperature: float = 0.0
    top_p: float = 1.0
    # one_pass (HF logits processor, KV cache kept) | rounds (s1x's exact-budget rounds, any engine) |
    # auto (one_pass on hf, rounds on vllm) | authors (their lm-eval loop token for token; paper's)
    controller: str = "auto"
    # bf: also answer after each ignore count 0..num_ignore from one generation (prefix sharing).
    answer_each_ignore: bool = False
    # The SFT trace format the method needs (tcc: tokens, scc: steps); sft.trace_format follows it.
    trace_format: str = "plain"
    step_tokens: int = 100  # scc: tokens per step (the SFT data's sft.chunk_tokens)
    classes: list[ClassPrompt] = field(default_factory=list)  # ccc
    # rs: waves before a BF cut; auto: 8 under s1x's controllers, none under authors; null: none
    max_tries: Any = "auto"
    samples: int = 8  # majority: samples per question (K)
    vote_ks: Optional[list[int]] = None  # majority: k of maj@k; null: 1, 2, 4, ... up to samples
    vote_subsets: int = 1000  # majority: random k-subsets per question for maj@k
    # majority: first_k (maj@k = the vote of the first k samples in order; the authors') | subsets
    # (the expectation over vote_subsets random k-subsets; s1x's, lower variance)
    maj_estimator: str = "subsets"
    # majority: true: think, then answer (the s1 format) | false: one plain generation from the
    # chat template with no thinking delimiter (the base model of Figure 4b), graded on its whole text
    split_thinking: bool = True


@dataclass
class BenchmarkConfig:
    """One evaluation set; several can be selected at once (``benchmark=[a,b]``)."""

    name: str = ""
    kind: str = "tiny"  # tiny (generated) | file | hub
    path: Optional[str] = None
    hub_config: Optional[str] = None  # the dataset config name on the hub (GPQA: gpqa_diamond)
    split: str = "test"  # the split of a hub dataset or saved dataset dir
    grader: str = "exact"  # exact | integer | choice | math | judge (an LLM, the `judge` config)
    # Graders run besides `grader`; disagreements are reported per budget (disagreements.jsonl).
    extra_graders: list[str] = field(default_factory=list)
    # s1x (the last Answer:, its last box) | authors (after <|im_start|>answer, last box, else Answer:)
    extraction: str = "s1x"
    # GPQA rows: s1x (stripped, with an instruction to answer with a letter) | authors (their template verbatim)
    prompt: str = "s1x"
    unparsed_choice: Optional[str] = None  # choice graders: the letter an answer without one counts as
    # choice graders: where the answer is not itself a letter, ask the judge LLM (judge.model) for it
    # with the authors' GPQA template (temperature 0.5), before unparsed_choice; off: s1x's letter patterns
    choice_llm: bool = False
    size: int = 200
    seed: int = 3
    choice: bool = False
    min_items: int = 2
    max_items: int = 8
    # Evaluate only the first N questions (null: all); decontamination still sees every question.
    limit: Optional[int] = None


@dataclass
class JudgeConfig:
    """The LLM of ``grader=judge`` (and ``extra_graders: [judge]``), through any engine."""

    model: Optional[str] = None  # hub id or local dir; null: no judge (grader=judge is refused)
    engine: EngineConfig = field(default_factory=EngineConfig)  # hf | vllm | openai, as the `engine` group
    # s1x: s1x's Yes/No equivalence question, greedy, re-asked when undecided | authors: their
    # option-index check (options = gold + earlier answers), temperature 0.5 (s1x.grading.authors_judge)
    protocol: str = "s1x"
    # null: the protocol's (s1x: 32, a Yes/No verdict; authors: 1,024, their max_tokens)
    max_new_tokens: Optional[int] = None
    retries: int = 1  # re-asks (sampled) when a reply has no verdict
