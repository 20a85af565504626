"""Typed schemas of the ``pool`` and ``selection`` config groups (registered by :mod:`s1x.config`).

Plain dataclasses, importing nothing of s1x: the shared core imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ProbeConfig:
    """A probe model for the difficulty filter: its greedy answers are graded per question."""

    name: str = ""
    # hub id or path; base: the run's own base model (`model`, as resolved: hub, dir or converted GGUF);
    # base@<step>: the tiny base model's pretraining checkpoint at that step
    model: str = ""
    # chat: chat template + assistant header, as the authors' probes | plain: question + think (tiny base)
    prompt: str = "chat"
    grader: str = "exact"
    max_new_tokens: int = 4096
    temperature: float = 0.0  # 0: greedy; the authors sampled at 0.05
    seed: int = 0  # of sampling, when temperature > 0
    batch_size: int = 64
    # A pool file column that gives this probe's correctness (the authors' isqwen7bcorrect ...).
    column: str = ""


@dataclass
class ClassifierConfig:
    """The model that files questions under MSC codes (questions without a domain only)."""

    model: str = ""  # hub id or path; empty: no classifier (problems keep their own domain or 'unknown')
    max_new_tokens: int = 64
    retries: int = 2  # re-asks with sampling when a reply names no valid code
    batch_size: int = 64


@dataclass
class FeaturizeConfig:
    """How pool problems get the features selection reads (PAPER.md 1.2-1.4)."""

    tokenizer: Optional[str] = None  # for trace lengths; null: the base model's tokenizer
    attempt_grader: str = "exact"  # grades the pool's own attempts (the keep rule needs them)
    probes: list[ProbeConfig] = field(default_factory=list)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)


@dataclass
class PoolConfig:
    """The candidate pool that selection draws from."""

    name: str = "tiny"
    kind: str = "tiny"  # tiny (generated) | hub (a hub id) | file (local parquet/jsonl/json or saved dataset dir)
    path: Optional[str] = None  # hub id or file path for kind hub/file
    split: str = "train"
    trace_source: str = "auto"  # auto | s1k | deepseek | gemini (which trace columns to read)
    size: int = 0  # tiny: number of problems to generate
    seed: int = 0
    choice_share: float = 0.0  # tiny: share of multiple-choice problems
    plant_duplicates: int = 0  # tiny: re-spaced copies of pool questions for dedup to find
    plant_overlaps: int = 0  # tiny: tiny-mixed questions for decontamination to find
    overlap_seed: int = 3  # tiny: the generator seed of the benchmark they come from
    featurize: FeaturizeConfig = field(default_factory=FeaturizeConfig)


@dataclass
class SourceShare:
    source: str = ""
    share: float = 1.0
    match: str = "exact"  # exact | contains | icontains: how `source` matches a problem's source


@dataclass
class KeepRule:
    """Problems taken directly, before sampling (the notebook keeps 393 benchmark-like ones)."""

    source: str = ""
    match: str = "exact"  # exact (==) | contains (substring) | icontains (substring, any case)
    min_trace_tokens: int = 0  # trace length >= this
    trace_tokens_above: Optional[int] = None  # trace length > this (the notebook's > 5600)
    require_correct: bool = True  # the pool's own attempt must be graded correct


@dataclass
class SelectionConfig:
    """How the training set is chosen from the pool; ``_target_`` is the strategy function."""

    _target_: str = "s1x.selection.strategies.select_random"
    name: str = ""
    n: Optional[int] = 1000  # null: no cap (59k-full)
    seed: int = 0
    # Curation steps applied before the strategy, always in the order of s1x.selection.funnel.FILTERS.
    filters: list[str] = field(default_factory=lambda: ["dedup", "decontaminate", "quality"])
    quality_rules: str = "notebook"  # notebook (the authors') | s1x (narrower; s1x.selection.quality)


@dataclass
class S1KSelectionConfig(SelectionConfig):
    _target_: str = "s1x.selection.strategies.select_s1k"
    filters: list[str] = field(default_factory=lambda: ["dedup", "decontaminate", "quality", "difficulty"])
    # Domains are drawn uniformly while fewer than this many are selected, then by
    # the domain distribution of the benchmark-like sources (the notebook: AIME + GPQA).
    uniform_until: int = 700
    benchmark_sources: list[SourceShare] = field(default_factory=list)
    keep: list[KeepRule] = field(default_factory=list)
    # Defaults are the notebook's; docs/fidelity.md says what each s1x alternative changes.
    keep_before_difficulty: bool = False  # True: kept from the quality-filtered set, exempt from difficulty
    kept_in_candidates: bool = True  # kept problems stay candidates (a re-draw adds nothing)
    domain_weights: str = "notebook"  # notebook (filtered set, int()) | s1x (whole pool, untruncated)
