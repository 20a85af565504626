"""Pretrain the tiny base model on plain-text traces (the tiny world's "Qwen base").

The paper starts from a strong instruct model; the tiny world needs a base that
already reasons step by step, so SFT on 1,000 chat-formatted examples only has
to teach the think/answer template, as in s1. This is a plain torch loop (not
the Trainer): it is the hot path of a cold run, and on 2 CPU cores the loop's
own overhead matters.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from s1x.formatting import completion_text, prompt_text
from s1x.batching import pad_batch
from s1x.progress import progress
from s1x.world.tasks import Problem
from s1x.world.tokenizer import core_size


CHAT_SHARE_MOD = 2  # one pretraining problem in 2 (by question hash) is a chat turn


def pretrain_text(p: Problem, tokenizer) -> str:
    """One pretraining document: the question, then the s1 think/answer segments.

    Half of the problems (by question hash) are wrapped in the chat template,
    the rest are plain text. The base stands in for Qwen2.5-32B-Instruct, which
    has seen chat turns: a base pretrained on plain text only had to relearn
    where the question sits from the 1,000 SFT examples, and on s1K's long
    traces it forgot short problems (greedy accuracy 77% -> 37% after SFT;
    with half chat turns, 81% -> 66%, measured with the same seed).
    Both layouts already use the think/answer delimiters: a base pretrained on
    ``trace\nAnswer: x`` kept writing that after SFT on 1,000 examples and never
    emitted the end-of-thinking delimiter that budget forcing relies on.
    The loss covers the question too: predicting ``C?`` after ``B?`` teaches the
    item embeddings their letter, which every trace step looks up.
    """
    completion = completion_text(p.trace, p.answer)
    if int(p.id, 16) % CHAT_SHARE_MOD == 0:
        return prompt_text(tokenizer, p.question) + completion
    return f"{p.question}\n{completion}"


def build_model(tok: PreTrainedTokenizerFast, arch: dict, seed: int) -> Qwen2ForCausalLM:
    """A fresh ``Qwen2ForCausalLM`` sized by ``arch`` (layers, hidden, ffn, heads, kv_heads)."""
    torch.manual_seed(seed)
    config = Qwen2Config(
        # The core vocabulary only: extension tokens (s1x.world.tokenizer) join at SFT.
        vocab_size=int(math.ceil(core_size() / 64) * 64),
        hidden_size=arch["hidden"],
        intermediate_size=arch["ffn"],
        num_hidden_layers=arch["layers"],
        num_attention_heads=arch["heads"],
        num_key_value_heads=arch["kv_heads"],
        # >= 1024 so extension runs (Wait x N) never warn about positions.
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        rope_theta=10000.0,
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return Qwen2ForCausalLM(config)


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar-length examples, so padding wastes little compute."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * 64
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort([lengths[i] for i in part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def pretrain(
    problems: list[Problem],
    tok: PreTrainedTokenizerFast,
    out_dir: Path,
    arch: dict,
    steps: int,
    batch_size: int,
    lr: float,
    warmup_steps: int,
    seed: int,
    checkpoints: tuple[int, ...] = (),
) -> dict:
    """Train a base model on ``problems`` as plain text; save it to ``out_dir``; return stats.

    The model at each step in ``checkpoints`` is also saved, under
    ``out_dir/checkpoints/step-<k>``: weaker models that serve as difficulty probes.
    """
    torch.manual_seed(seed)
    model = build_model(tok, arch, seed)
    seqs = [tok(pretrain_text(p, tok), add_special_tokens=False)["input_ids"] for p in problems]  # ends with <|im_end|>
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: min(1.0, (s + 1) / max(1, warmup_steps))
        * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, steps)))),
    )
    model.train()
    log, batches, step, t0 = [], [], 0, time.time()
    bar = progress(steps, "pretrain base", unit="step", leave=True)
    while step < steps:
        if not batches:
            batches = length_bucketed_batches([len(s) for s in seqs], batch_size, rng)
        idx = batches.pop()
        batch = pad_batch([seqs[i] for i in idx], tok.pad_token_id)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step in checkpoints:
            model.save_pretrained(str(out_dir / "checkpoints" / f"step-{step}"), safe_serialization=True)
        if step % 50 == 0 or step == steps:
            log.append({"step": step, "loss": loss.item(), "lr": sched.get_last_lr()[0], "time_s": time.time() - t0})
            bar.set_postfix(loss=f"{loss.item():.4f}")
        bar.update(1)
    bar.close()
    model.save_pretrained(str(out_dir), safe_serialization=True)
    with open(out_dir / "pretrain_log.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in log)
    n_params = sum(p.numel() for p in model.parameters())
    return {"steps": steps, "final_loss": log[-1]["loss"], "first_loss": log[0]["loss"], "n_params": n_params,
            "train_time_s": time.time() - t0}
