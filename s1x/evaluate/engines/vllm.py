"""The ``vllm`` engine: vLLM's offline ``LLM`` behind the engine interface (GPUs; optional extra).

``pip install -e ".[gpu]"`` installs vLLM. One ``LLM`` per run (prefix caching
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
  (the contract of :mod:`s1x.evaluate.engines.base`).

The adapter takes the ``LLM`` class as a parameter, so the tests drive it with
a fake of vLLM's request and output shapes (no GPU, no vLLM needed).
"""

from __future__ import annotations

from typing import Sequence

from s1x.evaluate.engines.base import GenerationOutput, GenerationRequest
from s1x.formatting import end_of_turn_id

INSTALL_HINT = 'engine=vllm needs vLLM: pip install -e ".[gpu]" (Linux with CUDA GPUs)'


def _vllm_classes():
    try:
        from vllm import LLM, SamplingParams
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise RuntimeError(f"{INSTALL_HINT} ({e})") from e
    return LLM, SamplingParams


class VLLMEngine:
    """Offline vLLM generation with the request/response semantics of the ``hf`` engine."""

    def __init__(self, model_path: str, tokenizer, tensor_parallel_size: int = 1, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None, enable_prefix_caching: bool = True,
                 seed: int = 0, llm_cls=None, sampling_params_cls=None):
        if llm_cls is None or sampling_params_cls is None:
            llm_cls, sampling_params_cls = _vllm_classes()
        self.SamplingParams = sampling_params_cls
        self.tokenizer = tokenizer
        self.eos_id = end_of_turn_id(tokenizer)
        kwargs = {"model": model_path, "tensor_parallel_size": tensor_parallel_size, "dtype": dtype,
                  "gpu_memory_utilization": gpu_memory_utilization, "enable_prefix_caching": enable_prefix_caching,
                  "seed": seed}
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
        """The ``n`` outputs of every request, in request order (:mod:`s1x.evaluate.engines.base`)."""
        if not requests:
            return []
        prompts = [{"prompt_token_ids": list(r.prompt_ids)} for r in requests]
        params = [self.sampling_params(r) for r in requests]
        results = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
        out = []
        for req, res in zip(requests, results):
            stops = set(req.stop_ids) | {self.eos_id}
            samples = []
            for o in sorted(res.outputs, key=lambda o: o.index):
                ids = list(o.token_ids)
                stop_id = None
                if o.finish_reason == "stop":
                    # vLLM reports a matched stop id in stop_reason (None for the model's EOS).
                    stop_id = o.stop_reason if isinstance(o.stop_reason, int) else (ids[-1] if ids and ids[-1] in stops else self.eos_id)
                    if ids and ids[-1] == stop_id:
                        ids = ids[:-1]
                finish = "stop" if o.finish_reason == "stop" else "length"
                samples.append(GenerationOutput(ids, self.tokenizer.decode(ids), finish, stop_id))
            out.append(samples)
        return out
