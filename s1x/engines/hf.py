"""The ``hf`` engine (transformers models, batched, CPU or GPU; greedy batches in s1x's own decoding loop,
sampled ones through ``generate``): how s1x builds and keys it.

The engine itself is :class:`~s1x.engines.hf_generate.HFEngine`, in a module of its own because
it needs torch and transformers, which the config checks (that look this declaration up) must
not load."""

from __future__ import annotations

from s1x.engines import EngineKind


def _build(engine_cfg, model_path: str, tokenizer):
    from s1x.engines.hf_generate import HFEngine

    return HFEngine(model_path, tokenizer, engine_cfg.batch_size, engine_cfg.device, engine_cfg.dtype,
                    engine_cfg.max_batch_tokens)


# The openai engine's keys, vLLM's placement keys and plugin engines' options (all added after
# hf): absent from hf's cache key, which stays what it was before they existed.
_NOT_HF_KEYS = ("base_url", "model", "server", "api_key_env", "concurrency", "timeout_s", "connect_timeout_s",
                "max_retries", "retry_backoff_s", "enforce_eager", "cpu_kv_cache_gib", "block_size", "options")

ENGINE = EngineKind("hf", _build, cache_spec=lambda spec: {k: v for k, v in spec.items() if k not in _NOT_HF_KEYS},
                    one_pass=True)
