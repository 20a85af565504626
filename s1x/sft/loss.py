"""How SFT averages the loss over a global batch (``sft.loss_average``).

``token``: one mean over every loss token of the global batch (all processes, all
accumulation steps): transformers 5's Trainer with ``average_tokens_across_devices`` on.
A 20k-token trace weighs ten times a 2k-token one.

``sequence``: each sequence's loss is the mean over its own loss tokens, and the step's loss
is the mean of those over the sequences of the global batch, whatever the split into
processes and accumulation steps. This is what the authors' run computed (transformers
4.46.1, one sequence per GPU on 16 GPUs, no accumulation: each process's loss is its one
sequence's token mean and DDP/FSDP average the gradients over processes), so every trace
weighs the same.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import Trainer

from s1x.sft.schema import LOSS_AVERAGES

IGNORE = -100


def sequence_means(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-sequence mean next-token cross-entropy over the sequence's own loss tokens
    (labels != -100, shifted by one as causal LMs predict the next token); 0 for a sequence
    without loss tokens."""
    target = labels[:, 1:]
    batch, length = target.shape
    # Flat (tokens, vocab) rows as transformers' own loss: no transposed copy of the logits, which
    # at 32k tokens x 152k vocabulary would be gigabytes more than the authors' path needs.
    per_token = F.cross_entropy(logits[:, :-1].reshape(batch * length, -1).float(), target.reshape(-1),
                                ignore_index=IGNORE, reduction="none").view(batch, length)
    mask = target != IGNORE
    return (per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1)


def count_sequences(batches: list[dict]) -> int:
    """Sequences with at least one loss token in these micro-batches."""
    return sum(int((b["labels"][:, 1:] != IGNORE).any(-1).sum()) for b in batches)


class SequenceMeanTrainer(Trainer):
    """The Trainer with ``sft.loss_average=sequence``: the loss of a micro-batch is the sum of its
    sequences' token means x world size / the number of sequences in the global batch, so that
    the gradients summed over accumulation steps and averaged over processes (DDP, FSDP,
    ZeRO all average) are the gradient of the mean over the global batch's sequences."""

    loss_is_scaled_for_ga = True  # the division by the global batch's sequences is done here

    def get_batch_samples(self, epoch_iterator, num_batches, device):
        batches, _ = super().get_batch_samples(epoch_iterator, num_batches, device)
        n = torch.tensor(count_sequences(batches), device=device)
        if self.args.world_size > 1:
            n = self.accelerator.gather(n).sum()
        return batches, n

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        outputs = model(**{k: v for k, v in inputs.items() if k != "labels"})
        total = sequence_means(outputs.logits, labels).sum()
        if num_items_in_batch is None or not model.training:
            # Outside training (evaluate) the Trainer passes a token count, or nothing: the mean is
            # over this micro-batch's own sequences.
            num_items_in_batch = max(1, count_sequences([inputs]))
        loss = total * self.args.world_size / torch.clamp(torch.as_tensor(num_items_in_batch), min=1)
        return (loss, outputs) if return_outputs else loss


def trainer_class(mode: str) -> type[Trainer]:
    """The Trainer class for ``sft.loss_average``."""
    if mode not in LOSS_AVERAGES:
        raise ValueError(f"sft.loss_average={mode!r}: must be one of {', '.join(LOSS_AVERAGES)}")
    return SequenceMeanTrainer if mode == "sequence" else Trainer
