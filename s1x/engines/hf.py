"""The ``hf`` engine: transformers ``generate``, batched, with the KV cache, on CPU or GPU.

Requests are sorted by prompt length and cut into batches, so left padding
wastes little; each batch gets its own logits processor (budget forcing keeps
per-row state) from ``processor_factory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm
from transformers import LogitsProcessorList

from s1x.models import load_model


@dataclass
class Completion:
    """One generation: the new token ids (padding removed) and why it stopped."""

    token_ids: list[int]
    stop_reason: str  # "eos" or "length"
    processor: object | None  # the batch's logits processor, for per-row accounting
    row: int  # this request's row inside that processor's batch


class HFEngine:
    """Batched greedy/sampled generation with a transformers causal LM."""

    def __init__(self, model_path: str, tokenizer, batch_size: int = 64, device: str = "auto", dtype: str = "auto"):
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.model = load_model(model_path, dtype=dtype).to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.pad_id = tokenizer.pad_token_id
        self.eos_id = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)

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
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[Completion | None] = [None] * len(prompts)
        torch.manual_seed(seed)
        bar = tqdm(total=len(prompts), desc=desc, unit="q", leave=False, mininterval=1.0)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = max(len(prompts[i]) for i in idx)
            ids = torch.full((len(idx), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for r, i in enumerate(idx):  # left padding: every row's next token is at the same column
                ids[r, width - len(prompts[i]) :] = torch.tensor(prompts[i])
                mask[r, width - len(prompts[i]) :] = 1
            processor = processor_factory(len(idx)) if processor_factory else None
            sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p} if temperature > 0 else {"do_sample": False}
            gen = self.model.generate(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                max_new_tokens=max_new_tokens,
                eos_token_id=self.eos_id,
                pad_token_id=self.pad_id,
                logits_processor=LogitsProcessorList([processor]) if processor else None,
                use_cache=True,
                **sampling,
            )[:, width:].tolist()
            rows = [self._strip(g) for g in gen]
            if processor is not None and hasattr(processor, "finish"):
                processor.finish([r for r, _ in rows])
            for r, i in enumerate(idx):
                out[i] = Completion(rows[r][0], rows[r][1], processor, r)
            bar.update(len(idx))
        bar.close()
        return out  # type: ignore[return-value]

    def _strip(self, ids: list[int]) -> tuple[list[int], str]:
        """Cut a row after its end-of-turn token (generate pads finished rows)."""
        if self.eos_id in ids:
            return ids[: ids.index(self.eos_id) + 1], "eos"
        return ids, "length"
