"""Batching token sequences: by length for generation (the HF engine, and selection's probe
passes, which save their work one run of the engine's own batches at a time), and padded into
tensors for training (the tiny world's pretraining and the SFT).

A helper every stage may use; it imports nothing of s1x.
"""

from __future__ import annotations

from typing import Sequence


def length_batches(order: Sequence[int], lengths: Sequence[int], max_new: int, batch_size: int,
                   max_tokens: int | None) -> list[list[int]]:
    """Cut ``order`` (indices sorted by length) into batches of at most ``batch_size`` rows whose
    padded size, rows x (longest prompt + ``max_new``), stays within ``max_tokens``: one long
    prompt then sits in a small batch instead of making 64 rows pad to its length."""
    batches: list[list[int]] = []
    for i in order:
        if batches:
            cur = batches[-1]
            width = max(lengths[j] for j in (cur[-1], i)) + max_new  # sorted: the newest is the longest
            if len(cur) < batch_size and (max_tokens is None or (len(cur) + 1) * width <= max_tokens):
                cur.append(i)
                continue
        batches.append([i])
    return batches


def pad_batch(seqs: list[list[int]], pad_id: int, labels: list[list[int]] | None = None) -> dict:
    """Right-pad token lists into input_ids / attention_mask / labels tensors (-100 = no loss)."""
    import torch  # here: generation batching must not need torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    lab = torch.full((len(seqs), width), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
        lab[i, : len(s)] = torch.tensor(labels[i] if labels is not None else s)
    return {"input_ids": ids, "attention_mask": mask, "labels": lab}
