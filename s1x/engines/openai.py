"""The ``openai`` engine: any OpenAI-compatible completions server behind the engine interface.

``vllm serve``, SGLang and ``transformers serve`` all answer ``/v1/completions``;
evaluation then runs wherever the client runs, decoupled from the GPUs serving
the model. Only the round-based controllers run here (no logits processor
crosses HTTP). Per request:

- ``engine.server=generic`` (any server, standard fields only): the prompt is
  sent as text (the prompt ids decoded with the model's own tokenizer, special
  tokens kept), stop ids as stop strings (their decoded text: ``<|im_start|>``,
  ``<|im_end|>``), ``frequency_penalty=0`` (``transformers serve`` maps it to
  ``repetition_penalty=1``, so the model's generation config adds no penalty, as
  on the other engines). The server returns text; its token ids are the text
  re-tokenized with the model's tokenizer, so every count (thinking tokens,
  budgets) is in that tokenizer's tokens. Re-tokenization can merge what the
  model wrote as separate tokens: that is the only source of differences from
  ``engine=hf`` under greedy decoding. ``min_new_tokens`` cannot be expressed
  and is refused; ``n`` > 1 becomes n requests (seeds ``seed + j``); a stop
  reached exactly at ``max_tokens`` is reported by some servers (``transformers
  serve``) as ``length``; which stop string ended a completion is not reported
  (``stop_id`` None).
- ``engine.server=vllm`` (vLLM's extras): the prompt as token ids,
  ``stop_token_ids`` (+ end of turn), ``min_tokens``, ``skip_special_tokens=False``,
  ``include_stop_str_in_output=False``, ``repetition_penalty=1``, ``top_k=-1``
  (vLLM otherwise applies the model's generation config), ``return_token_ids``
  (the exact ids when the server returns them; re-tokenized text otherwise), and
  ``stop_reason`` names the stop id.

The API key is read from the environment variable ``engine.api_key_env`` names,
held in the client's headers only, and never written or logged. Requests run
``concurrency`` at a time; a connection error, a timeout, 408/429 or a 5xx is
retried ``max_retries`` times with exponential backoff; other errors fail at
once with the server's reason.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence
from urllib.parse import urlsplit

import httpx
from omegaconf import OmegaConf

from s1x.engines import EngineKind
from s1x.engines.base import GenerationOutput, GenerationRequest
from s1x.errors import ConfigError, require
from s1x.formatting import end_of_turn_id
from s1x.progress import progress

SERVERS = ("generic", "vllm")
RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class ServerUnavailable(RuntimeError):
    """No usable server at ``engine.base_url`` (down, refuses the key, or does not serve ``engine.model``)."""


class OpenAIEngine:
    """Completions over HTTP with the request/response semantics of the other engines."""

    def __init__(self, base_url: str, model: str, tokenizer, *, api_key_env: str | None = None, server: str = "generic",
                 concurrency: int = 8, timeout_s: float = 600.0, connect_timeout_s: float = 10.0, max_retries: int = 3,
                 retry_backoff_s: float = 1.0, max_model_len: int | None = None, check: bool = True):
        if server not in SERVERS:
            raise ValueError(f"engine.server={server!r}: must be one of {SERVERS}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.tokenizer = tokenizer
        self.eos_id = end_of_turn_id(tokenizer)
        self.server = server
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        key = os.environ.get(api_key_env) if api_key_env else None
        headers = {"authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
                                    limits=httpx.Limits(max_connections=concurrency))
        self.context_length = max_model_len
        if check:
            served = self.check_server()
            self.context_length = max_model_len or served.get("max_model_len")

    # ----------------------------------------------------------------- transport

    def _post(self, path: str, body: dict) -> dict:
        """POST with retries on transient failures; one clear error otherwise."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            try:
                r = self._client.post(url, json=body)
            except httpx.TransportError as e:
                why = f"{type(e).__name__}: {e}"
            else:
                if r.status_code == 200:
                    return r.json()
                why = f"HTTP {r.status_code}: {_reason(r)}"
                if r.status_code not in RETRY_STATUS:
                    raise ServerUnavailable(f"engine=openai: {url} refused the request ({why})")
            if attempt < self.max_retries:
                time.sleep(self.retry_backoff_s * 2**attempt)
        raise ServerUnavailable(f"engine=openai: {url} failed {self.max_retries + 1} times ({why}); "
                                "is the server up and engine.base_url right?")

    def check_server(self) -> dict:
        """The ``/models`` entry of ``self.model``; a clear error when the server is down, refuses
        the key, or serves other models."""
        url = f"{self.base_url}/models"
        try:
            r = self._client.get(url, timeout=httpx.Timeout(30.0, connect=5.0))
        except httpx.TransportError as e:
            raise ServerUnavailable(f"engine.base_url={self.base_url}: no server answers ({type(e).__name__}: {e}); "
                                    "start one (vllm serve MODEL, transformers serve MODEL) or fix engine.base_url")
        if r.status_code in (401, 403):
            raise ServerUnavailable(f"engine.base_url={self.base_url} refused the API key (HTTP {r.status_code}); "
                                    "export it in the variable engine.api_key_env names")
        if r.status_code != 200:
            raise ServerUnavailable(f"engine.base_url={self.base_url}: GET /models answered HTTP {r.status_code}; "
                                    "is this an OpenAI-compatible server (base_url ends in /v1)?")
        models = {m.get("id"): m for m in r.json().get("data", [])}
        if self.model not in models:
            raise ServerUnavailable(f"engine.model={self.model!r} is not served at {self.base_url}; it serves "
                                    f"{sorted(models)}: set engine.model to one of them")
        return models[self.model]

    def close(self) -> None:
        self._client.close()

    # ----------------------------------------------------------------- completions

    def _body(self, req: GenerationRequest, seed: int, n: int) -> dict:
        stops = sorted(set(req.stop_ids) | {self.eos_id})
        body = {"model": self.model, "max_tokens": req.max_new_tokens, "temperature": req.temperature,
                "top_p": req.top_p, "seed": seed}
        if self.server == "vllm":
            body.update(prompt=list(req.prompt_ids), n=n, stop_token_ids=stops, min_tokens=req.min_new_tokens,
                        skip_special_tokens=False, include_stop_str_in_output=False, repetition_penalty=1.0, top_k=-1,
                        return_token_ids=True)
        else:
            if req.min_new_tokens:
                raise ValueError("min_new_tokens has no standard completions field; use engine.server=vllm "
                                 "(a server with vLLM's extras)")
            body.update(prompt=self.tokenizer.decode(list(req.prompt_ids), skip_special_tokens=False),
                        stop=[self.tokenizer.decode([s], skip_special_tokens=False) for s in stops],
                        frequency_penalty=0.0)
        return body

    def _output(self, req: GenerationRequest, choice: dict, completion_tokens: int | None) -> GenerationOutput:
        text = choice.get("text") or ""
        ids = choice.get("token_ids")
        server_ids = ids is not None
        stops = set(req.stop_ids) | {self.eos_id}
        if ids is None:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        ids = list(ids)
        finish = "stop" if choice.get("finish_reason") == "stop" else "length"
        if finish == "length" and completion_tokens is not None and completion_tokens < req.max_new_tokens:
            finish = "stop"  # ended before max_tokens: only a stop can have ended it
        stop_id = None
        if finish == "stop":
            reason = choice.get("stop_reason")
            stop_id = reason if isinstance(reason, int) else (self.eos_id if self.server == "vllm" else None)
            # vLLM keeps the eos that stopped it (stop_reason None) at the end of its token ids: that id,
            # possibly a generation-config eos other than the end of turn, is the real stop.
            eos_kept = self.server == "vllm" and server_ids and reason is None and ids
            if eos_kept or (ids and ids[-1] in stops):  # a server that keeps the stop token: the contract drops it
                stop_id, ids = ids[-1], ids[:-1]
                text = self.tokenizer.decode(ids)
        limit = req.max_new_tokens - (1 if finish == "stop" else 0)
        if len(ids) > limit:  # re-tokenization made more tokens than the server generated: keep the contract
            ids, finish, stop_id = ids[: req.max_new_tokens], "length", None
            text = self.tokenizer.decode(ids)
        return GenerationOutput(ids, text, finish, stop_id, {"completion_tokens": completion_tokens})

    def _calls(self, req: GenerationRequest) -> list[dict]:
        """The request bodies of one request: one, or one per sample where servers may ignore ``n``."""
        if self.server == "vllm" or req.n == 1:
            return [self._body(req, req.seed, req.n)]
        return [self._body(req, req.seed + j, 1) for j in range(req.n)]

    def _outputs(self, req: GenerationRequest, body: dict, res: dict) -> list[GenerationOutput]:
        choices = sorted(res.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != body.get("n", 1):
            raise ServerUnavailable(f"engine=openai: asked {self.base_url} for {body.get('n', 1)} completions, "
                                    f"got {len(choices)}")
        usage = (res.get("usage") or {}).get("completion_tokens") if len(choices) == 1 else None
        return [self._output(req, c, usage) for c in choices]

    def generate_requests(self, requests: Sequence[GenerationRequest], desc: str = "generate") -> list[list[GenerationOutput]]:
        """The ``n`` outputs of every request, in request order (:mod:`s1x.engines.base`).

        Only the HTTP calls run in the worker threads; the tokenizer (decoding prompts,
        re-tokenizing completions) is used in this thread alone."""
        calls = [(i, body) for i, r in enumerate(requests) for body in self._calls(r)]
        bar = progress(len(calls), desc, unit="req")
        out: list[list[GenerationOutput]] = [[] for _ in requests]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self._post, "/completions", body) for _, body in calls]
            for (i, body), f in zip(calls, futures):
                out[i] += self._outputs(requests[i], body, f.result())
                bar.update(1)
        bar.close()
        return out

    def chat(self, prompts: Sequence[str], temperature: float = 0.0, seed: int = 0, max_tokens: int = 256) -> list[str]:
        """One user-turn chat completion per prompt (the server applies the chat template): the
        ``complete`` function of :func:`s1x.grading.judge.judge_grade_many`."""
        def one(prompt: str) -> str:
            body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                    "temperature": temperature, "seed": seed}
            res = self._post("/chat/completions", body)
            return res["choices"][0]["message"].get("content") or ""

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, prompts))


def _reason(response: httpx.Response) -> str:
    """The server's error message, short (``detail`` or ``error.message``), never the request."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        err = data.get("error")
        msg = data.get("detail") or (err.get("message") if isinstance(err, dict) else err) or data.get("message")
        if msg:
            return str(msg)[:300]
    return str(data)[:300]


def _build(engine_cfg, model_path: str, tokenizer) -> OpenAIEngine:
    try:
        return OpenAIEngine(engine_cfg.base_url, engine_cfg.model or model_path, tokenizer,
                            api_key_env=engine_cfg.api_key_env, server=engine_cfg.server,
                            concurrency=engine_cfg.concurrency, timeout_s=engine_cfg.timeout_s,
                            connect_timeout_s=engine_cfg.connect_timeout_s, max_retries=engine_cfg.max_retries,
                            retry_backoff_s=engine_cfg.retry_backoff_s, max_model_len=engine_cfg.max_model_len)
    except ServerUnavailable as e:
        raise ConfigError(str(e)) from None


def _check(e, where: str) -> None:
    """The client of a running OpenAI-compatible server (``engine`` or ``judge.engine``)."""
    url = None if OmegaConf.is_missing(e, "base_url") else e.base_url
    require(bool(url) and str(url).startswith(("http://", "https://")), f"{where}.base_url", url,
            f"give the server's OpenAI API root, e.g. {where}.base_url=http://127.0.0.1:8000/v1")
    parts = urlsplit(str(url))
    # The URL enters cache keys, meta.json and messages: a credential in it would be written everywhere.
    require(parts.username is None and parts.password is None and not parts.query, f"{where}.base_url", "<hidden>",
            f"must hold no credentials (user:key@ or ?key=): put the key in the variable {where}.api_key_env names")
    require(e.server in ("generic", "vllm"), f"{where}.server", e.server,
            "must be generic (standard fields only) or vllm (a server with vLLM's extras)")
    require(e.api_key_env is None or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", e.api_key_env) is not None,
            f"{where}.api_key_env", "<hidden>", "must name the environment variable that holds the key "
            "(e.g. OPENAI_API_KEY), never the key itself")
    for key in ("concurrency", "timeout_s", "connect_timeout_s"):
        require(e[key] > 0, f"{where}.{key}", e[key], "must be positive")
    require(e.max_retries >= 0 and e.retry_backoff_s >= 0, f"{where}.max_retries", e.max_retries,
            "max_retries and retry_backoff_s must be >= 0")


# What an openai evaluation depends on: the server, the served name, the protocol, the context it
# is told. Everything else is either how it is reached (key variable, concurrency, timeouts,
# retries) or a setting of the in-process engines (batch size, device, dtype) the server ignores.
_KEYED = ("name", "base_url", "model", "server", "max_model_len", "on_context_overflow")

ENGINE = EngineKind("openai", _build, _check, lambda spec: {k: spec[k] for k in _KEYED})
