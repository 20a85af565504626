"""The ``engine`` group's typed schema (also ``judge.engine``'s): the keys every engine reads,
then each built-in engine's own, commented with the engine that reads them.

One dataclass for the built-in engines' keys, so ``judge.engine.name=vllm`` (a command-line
override of one key) composes; each engine checks the keys it uses (``check`` of its
:class:`~s1x.engines.EngineKind`) and keys its cache entries on them (``cache_spec``). An engine
with keys of its own (a plugin's) types them in a dataclass of its own
(``EngineKind.options_schema``) and takes them under ``options``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass
class EngineConfig:
    name: str = "hf"  # hf | vllm | openai | a registered engine
    batch_size: int = 64  # hf: rows per generate call
    device: str = "auto"  # hf, vllm: auto | cpu | cuda (vllm: must match the installed build)
    dtype: str = "auto"
    # vllm only
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: Optional[int] = None  # vllm, openai: the served context (openai: null = what /models says)
    enable_prefix_caching: bool = True
    enforce_eager: Optional[bool] = None  # null: true on CPU (no compile warm-up), false on GPUs (CUDA graphs)
    cpu_kv_cache_gib: float = 1.0  # vLLM's CPU build: the KV cache in GiB (VLLM_CPU_KVCACHE_SPACE)
    block_size: Optional[int] = None  # KV-cache block in tokens (prefix caching reuses whole blocks); null: vLLM's
    # A question whose prompt + thinking cap + answer room exceeds the model's context:
    # skip (counted in the results row, listed in context_skipped.jsonl) | fail (before generating)
    on_context_overflow: str = "skip"
    # hf: at most this many tokens (prompt + new, padded) in one batch, so one long prompt
    # cannot make the whole batch pad to its length
    max_batch_tokens: int = 262144
    # openai only (s1x.engines.openai)
    base_url: Optional[str] = None  # e.g. http://127.0.0.1:8000/v1
    model: Optional[str] = None  # the served model's name; null: the run's model path (what `vllm serve PATH` serves)
    api_key_env: Optional[str] = "OPENAI_API_KEY"  # the environment variable holding the key (unset: no key sent)
    server: str = "generic"  # generic (standard fields) | vllm (token-id prompts, stop_token_ids, min_tokens, ...)
    concurrency: int = 8  # requests in flight
    timeout_s: float = 600.0  # per request
    connect_timeout_s: float = 10.0
    max_retries: int = 3  # on connection errors, timeouts, 408/429/5xx
    retry_backoff_s: float = 1.0  # doubled after every retry
    # An engine's own keys beyond these (a plugin engine's): typed by its EngineKind.options_schema
    # and checked before any stage runs, e.g. engine.options.endpoint=/generate
    options: Dict[str, Any] = field(default_factory=dict)
