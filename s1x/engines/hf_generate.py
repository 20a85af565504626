"""The ``hf`` engine's implementation (declared in :mod:`s1x.engines.hf`): transformers ``generate``,
batched, with the KV cache, on CPU or GPU.

Two entry points:

- :meth:`HFEngine.generate_requests`, the engine interface of
  :mod:`s1x.engines.base` (per-request max/min tokens and stop ids, enforced
  per row inside one batch), which the round-based methods use;
- :meth:`HFEngine.generate` with a ``processor_factory``: one ``generate`` per
  batch with a stateful logits processor (one-pass budget forcing).

Requests are sorted by prompt length and cut into batches, so left padding
wastes little. Greedy batches decode in s1x's own loop (:meth:`HFEngine._greedy_rows`),
which drops each row from the batch and its KV cache as it finishes: ``generate`` keeps
finished rows in the batch until the longest one ends, and on a CPU a decoding step costs
about as much per row whether the row is still needed or not. The loop applies no extra
logits processors from a model's ``generation_config`` (``no_repeat_ngram_size``,
``suppress_tokens``, ...), as vLLM applies none; those of SmolLM2, Qwen2.5 and s1 set none.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from transformers import DynamicCache, LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from s1x.batching import length_batches
from s1x.engines.base import GenerationOutput, GenerationRequest
from s1x.formatting import end_of_turn_id
from s1x.models import load_model
from s1x.progress import progress


@dataclass
class Completion:
    """One generation: the new token ids (padding removed) and why it stopped."""

    token_ids: list[int]
    stop_reason: str  # "eos" or "length"
    processor: object | None  # the batch's logits processor, for per-row accounting
    row: int  # this request's row inside that processor's batch


class HFEngine:
    """Batched greedy/sampled generation with a transformers causal LM."""

    def __init__(self, model_path: str, tokenizer, batch_size: int = 64, device: str = "auto", dtype: str = "auto",
                 max_batch_tokens: int | None = None):
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.model = load_model(model_path, dtype=dtype).to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.pad_id = tokenizer.pad_token_id
        self.eos_id = end_of_turn_id(tokenizer)
        self.context_length = getattr(self.model.config, "max_position_embeddings", None)
        self._cache_arg = cache_argument(self.model)
        forward = inspect.signature(self.model.forward).parameters
        self._last_logits = {"logits_to_keep": 1} if "logits_to_keep" in forward else {}
        # A finished row leaves the KV cache only where every layer's cache is plain keys and values:
        # linear-attention and hybrid layers (Qwen3-Next, LFM2) keep states that cannot be cut by row.
        layer_types = getattr(self.model.config, "layer_types", None) or ["full_attention"]
        self._drops_rows = all(t in ("full_attention", "sliding_attention") for t in layer_types)

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[list[int]],
        max_new_tokens: int,
        processor_factory: Callable[[int], object] | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int = 0,
        desc: str = "generate",
    ) -> list[Completion]:
        """Generate a completion for every prompt (token ids), in the order given."""
        if max_new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[Completion | None] = [None] * len(prompts)
        torch.manual_seed(seed)
        bar = progress(len(prompts), desc, unit="q")
        for idx in length_batches(order, [len(p) for p in prompts], max_new_tokens, self.batch_size, self.max_batch_tokens):
            processor = processor_factory(len(idx)) if processor_factory else None
            if processor is None and temperature == 0:  # the probes' path: finished rows leave the batch
                gen = self._greedy_rows([prompts[i] for i in idx], [max_new_tokens] * len(idx), [0] * len(idx),
                                        [{self.eos_id}] * len(idx))
            else:
                ids, mask = left_pad([prompts[i] for i in idx], self.pad_id)
                width = ids.shape[1]
                gen = self.model.generate(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    max_new_tokens=max_new_tokens,
                    eos_token_id=self.eos_id,
                    pad_token_id=self.pad_id,
                    logits_processor=LogitsProcessorList([processor]) if processor else None,
                    use_cache=True,
                    **_decoding(temperature, top_p),
                )[:, width:].tolist()
            rows = [self._strip(g) for g in gen]
            if processor is not None and hasattr(processor, "finish"):
                processor.finish([r for r, _ in rows])
            for r, i in enumerate(idx):
                out[i] = Completion(rows[r][0], rows[r][1], processor, r)
            bar.update(len(idx))
        bar.close()
        return out  # type: ignore[return-value]

    @torch.inference_mode()
    def generate_requests(self, requests, desc: str = "generate") -> list[list[GenerationOutput]]:
        """The engine interface (:mod:`s1x.engines.base`): ``n`` outputs per request, in order.

        Requests that share temperature and top-p share batches; per-row limits
        (max/min new tokens, stop ids) are enforced inside the batch. One torch
        seed per group (the smallest request seed): sampled outputs are
        reproducible for the same requests, not per request as in vLLM."""
        flat = [(i, r) for i, r in enumerate(requests) for _ in range(r.n)]
        outputs: list[list[GenerationOutput]] = [[] for _ in requests]
        groups: dict[tuple, list[tuple[int, GenerationRequest]]] = {}
        for i, r in flat:
            groups.setdefault((r.temperature, r.top_p), []).append((i, r))
        bar = progress(len(flat), desc, unit="req")
        for (temperature, top_p), items in groups.items():
            torch.manual_seed(min(r.seed for _, r in items))
            items = sorted(items, key=lambda x: len(x[1].prompt_ids))
            widest = max(r.max_new_tokens for _, r in items)
            for positions in length_batches(list(range(len(items))), [len(r.prompt_ids) for _, r in items], widest,
                                            self.batch_size, self.max_batch_tokens):
                batch = [items[k] for k in positions]
                for (i, _), out in zip(batch, self._request_batch([r for _, r in batch], temperature, top_p)):
                    outputs[i].append(out)
                bar.update(len(batch))
        bar.close()
        return outputs

    def _request_batch(self, reqs: list[GenerationRequest], temperature: float, top_p: float) -> list[GenerationOutput]:
        stops = [set(r.stop_ids) | {self.eos_id} for r in reqs]
        if temperature == 0:
            gen = self._greedy_rows([r.prompt_ids for r in reqs], [r.max_new_tokens for r in reqs],
                                    [r.min_new_tokens for r in reqs], stops)
            return [self._request_output(g, r, s) for g, r, s in zip(gen, reqs, stops)]
        ids, mask = left_pad([r.prompt_ids for r in reqs], self.pad_id)
        width = ids.shape[1]
        gen = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            max_new_tokens=max(r.max_new_tokens for r in reqs),
            eos_token_id=self.eos_id,
            pad_token_id=self.pad_id,
            logits_processor=LogitsProcessorList([_MinNewTokens(width, [r.min_new_tokens for r in reqs], stops)]),
            stopping_criteria=StoppingCriteriaList([_RowDone(width, [r.max_new_tokens for r in reqs], stops)]),
            use_cache=True,
            **_decoding(temperature, top_p),
        )[:, width:].tolist()
        return [self._request_output(g, r, s) for g, r, s in zip(gen, reqs, stops)]

    def _request_output(self, generated: list[int], req: GenerationRequest, stops: set[int]) -> GenerationOutput:
        """A row's tokens up to (not including) its first stop id, within its own limit."""
        tokens, finish, stop_id = [], "length", None
        for tok in generated[: req.max_new_tokens]:
            if tok in stops:
                finish, stop_id = "stop", tok
                break
            tokens.append(tok)
        return GenerationOutput(tokens, self.tokenizer.decode(tokens), finish, stop_id)

    @torch.inference_mode()
    def _greedy_rows(self, prompts: Sequence[Sequence[int]], max_new: list[int], min_new: list[int],
                     stops: list[set[int]]) -> list[list[int]]:
        """Greedy continuations of one batch, each row ending with its stop id (included) or at its
        own ``max_new`` tokens; a stop id cannot come before ``min_new`` tokens.

        The same decoding as ``generate`` with :class:`_MinNewTokens` and :class:`_RowDone`
        (argmax of the last position's logits, left padding hidden by the mask, positions
        counting only real tokens), except that a finished row leaves the batch and the KV cache
        at once instead of decoding padding until the batch's longest row ends (a model whose
        cache cannot drop a row keeps its finished rows and ignores what they decode)."""
        ids, mask = left_pad(prompts, self.pad_id)
        ids, mask = ids.to(self.device), mask.to(self.device)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)  # filled in place
        logits = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **self._last_logits,
                            **{self._cache_arg: cache}).logits[:, -1]
        generated: list[list[int]] = [[] for _ in prompts]
        stop_lists = [torch.tensor(sorted(s), device=self.device) for s in stops]
        live = list(range(len(prompts)))  # batch row k decodes prompt live[k]
        next_pos = pos[:, -1:] + 1
        finished = [False] * len(prompts)
        while True:
            for k, r in enumerate(live):
                if len(generated[r]) < min_new[r]:
                    logits[k, stop_lists[r]] = float("-inf")
            chosen = logits.argmax(-1).tolist()
            keep = []
            for k, r in enumerate(live):
                if not finished[r]:
                    generated[r].append(chosen[k])
                    finished[r] = chosen[k] in stops[r] or len(generated[r]) >= max_new[r]
                if not finished[r] or not self._drops_rows:
                    keep.append(k)
            if all(finished):
                return generated
            if len(keep) < len(live):
                rows = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(rows)
                mask, next_pos = mask[rows], next_pos[rows]
                live = [live[k] for k in keep]
            step = torch.tensor([chosen[k] for k in keep], device=self.device).unsqueeze(-1)
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=-1)
            logits = self.model(input_ids=step, attention_mask=mask, position_ids=next_pos, use_cache=True,
                                **{self._cache_arg: cache}).logits[:, -1]
            next_pos = next_pos + 1

    @torch.inference_mode()
    def answers_from_snapshots(self, sequences: Sequence[list[int]], cuts: Sequence[list[int]], suffix: list[int],
                               max_new_tokens: int, desc: str = "answers from snapshots") -> list[list[list[int]]]:
        """Greedy continuations of ``sequence[:cut] + suffix`` for every cut of every sequence,
        with one prefill per sequence (prefix sharing on HF).

        Each batch of sequences is encoded once; the KV cache is repeated once per
        cut and all cuts decode together, the positions after each cut hidden by the
        attention mask (positions count only what is visible, so RoPE sees the same
        positions as a fresh prefix). Returns ``[sequence][cut] -> new token ids`` (the end-of-turn id
        excluded; at most ``max_new_tokens``)."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        out: list[list[list[int]]] = [[[] for _ in c] for c in cuts]
        bar = progress(len(sequences), desc, unit="seq")
        # Every sequence becomes one row per cut: keep about batch_size rows per forward pass.
        per_batch = max(1, self.batch_size // max(1, max(len(c) for c in cuts)))
        for start in range(0, len(order), per_batch):
            idx = [i for i in order[start : start + per_batch] if cuts[i]]
            bar.update(min(per_batch, len(order) - start))
            if not idx:
                continue
            ids, mask = left_pad([sequences[i] for i in idx], self.pad_id)
            width = ids.shape[1]
            ids, mask = ids.to(self.device), mask.to(self.device)
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            cache = DynamicCache(config=self.model.config)  # filled in place by the prefill
            self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **{self._cache_arg: cache})
            # All cuts of the batch decode together: row r's j-th cut is row r * n_cuts + j.
            n_cuts = max(len(cuts[i]) for i in idx)
            cache.batch_repeat_interleave(n_cuts)
            branch_mask = mask.repeat_interleave(n_cuts, dim=0)
            active = []
            for r, i in enumerate(idx):
                for j in range(n_cuts):
                    cut = cuts[i][j] if j < len(cuts[i]) else len(sequences[i])
                    branch_mask[r * n_cuts + j, width - len(sequences[i]) + cut :] = 0  # hide what follows the cut
                    active.append(j < len(cuts[i]))
            new = self._greedy_branch(cache, branch_mask, suffix, max_new_tokens, active)
            for r, i in enumerate(idx):
                for j in range(len(cuts[i])):
                    out[i][j] = new[r * n_cuts + j]
        bar.close()
        return out

    def _greedy_branch(self, cache, mask, suffix: list[int], max_new_tokens: int, active: list[bool]) -> list[list[int]]:
        """Feed ``suffix`` after the visible part of each row, then decode greedily to end of turn
        (inactive rows are padding and stop at once)."""
        rows = mask.shape[0]
        visible = mask.sum(-1, keepdim=True)
        step_ids = torch.tensor([suffix] * rows, device=self.device)
        generated: list[list[int]] = [[] for _ in range(rows)]
        done = [not a for a in active]
        for step in range(max_new_tokens + 1):
            n = step_ids.shape[1]
            mask = torch.cat([mask, torch.ones((rows, n), dtype=mask.dtype, device=self.device)], dim=-1)
            pos = visible + torch.arange(n, device=self.device)
            visible = visible + n
            logits = self.model(input_ids=step_ids, attention_mask=mask, position_ids=pos, use_cache=True,
                                **{self._cache_arg: cache}).logits[:, -1]
            nxt = logits.argmax(-1).tolist()
            for r, t in enumerate(nxt):
                if done[r]:
                    continue
                if t == self.eos_id or len(generated[r]) >= max_new_tokens:
                    done[r] = True
                else:
                    generated[r].append(t)
            if all(done):
                break
            step_ids = torch.tensor(nxt, device=self.device).unsqueeze(-1)
        return generated

    def _strip(self, ids: list[int]) -> tuple[list[int], str]:
        """Cut a row after its end-of-turn token (generate pads finished rows)."""
        if self.eos_id in ids:
            return ids[: ids.index(self.eos_id) + 1], "eos"
        return ids, "length"


def cache_argument(model) -> str:
    """The name under which ``model.forward`` takes a KV cache: ``cache`` since transformers 5.24
    (``past_key_values`` warns there and goes in 5.40), ``past_key_values`` before. Passing the
    new name to an older model would be swallowed by its ``**kwargs`` and silently run uncached."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def left_pad(seqs, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists as one left-padded batch (every row's next token in the same column) and its mask."""
    width = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, x in enumerate(seqs):
        ids[r, width - len(x) :] = torch.tensor(list(x), dtype=torch.long)
        mask[r, width - len(x) :] = 1
    return ids, mask


def _decoding(temperature: float, top_p: float) -> dict:
    """The whole decoding rule of a request, as on vLLM: the model's generation_config extras
    (Qwen's repetition_penalty 1.05, HF's default top_k 50) are switched off, so engines agree
    and prefix-shared answers (plain argmax) equal a fresh greedy run."""
    if temperature > 0:
        return {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0, "repetition_penalty": 1.0}
    return {"do_sample": False, "repetition_penalty": 1.0}


class _MinNewTokens(LogitsProcessor):
    """Per row: stop ids cannot be generated before ``min_new`` new tokens."""

    def __init__(self, prompt_width: int, min_new: list[int], stops: list[set[int]]):
        self.width, self.min_new = prompt_width, min_new
        self.stop_lists = [torch.tensor(sorted(s)) for s in stops]

    def __call__(self, input_ids, scores):
        n = input_ids.shape[1] - self.width  # tokens generated so far
        for row, lo in enumerate(self.min_new):
            if n < lo:
                scores[row, self.stop_lists[row]] = float("-inf")
        return scores


class _RowDone(StoppingCriteria):
    """Per row: done at its own stop ids or at its own ``max_new`` (the batch runs to the largest)."""

    def __init__(self, prompt_width: int, max_new: list[int], stops: list[set[int]]):
        self.width, self.max_new, self.stops = prompt_width, max_new, stops

    def __call__(self, input_ids, scores, **kwargs):
        n = input_ids.shape[1] - self.width
        last = input_ids[:, -1].tolist()
        done = [n >= hi or (n > 0 and last[row] in self.stops[row]) for row, hi in enumerate(self.max_new)]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)
