"""sft.loss_average: the gradient of one optimizer step on two sequences of very different
lengths, for every layout (one process with accumulation 2, one process with both sequences
in one padded batch, two gloo processes), against references written here with plain torch:

- ``sequence`` (the authors' objective, AUTHORS_CODE.md "Loss averaging"): each sequence's
  loss is the mean over its own loss tokens, the step's loss the mean over sequences;
- ``token``: one mean over every loss token of the batch.
"""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from conftest import ROOT, compose_config, random_tiny_base
from s1x.models import load_model
from s1x.sft.train import encode_selected, grow_embeddings_for
from s1x.world import tasks

import sft_grad_probe

# fp32 on a CPU: padding, accumulation and the gloo all-reduce change only the summation order.
RTOL, ATOL = 1e-4, 1e-7


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A random tiny base, two records (the long trace ~8x the short one), their encoding."""
    base = tmp_path_factory.mktemp("base")
    tok = random_tiny_base(base)
    problems = sorted(tasks.generate(60, seed=5), key=lambda p: len(p.trace))
    short, long_ = problems[0], problems[-1]
    selected = [{"question": short.question, "trace": short.trace, "attempt": short.answer},
                {"question": long_.question, "trace": " ".join([long_.trace] * 6), "attempt": long_.answer}]
    sft = OmegaConf.to_container(compose_config(
        ["sft.epochs=1", "sft.global_batch_size=2", "sft.per_device_batch_size=1", "sft.max_grad_norm=0",
         "sft.warmup_ratio=0", "sft.lr=1e-3", "sft.logging_steps=1", "sft.block_size=4096"]).sft, resolve=True)
    examples, _ = encode_selected(selected, tok, OmegaConf.create(sft))
    n_loss = [sum(x != -100 for x in e.labels[1:]) for e in examples]
    assert n_loss[1] > 6 * n_loss[0], n_loss  # very different lengths, or the two averages agree
    return {"base": str(base), "tok": tok, "selected": selected, "sft": sft, "examples": examples}


def _reference(setup, mode: str) -> dict[str, torch.Tensor]:
    """The gradient of the step's loss, each sequence run alone (no padding, no accumulation)."""
    model = load_model(setup["base"], dtype="float32")
    grow_embeddings_for(model, setup["examples"])
    model.train()
    sums, counts = [], []
    for e in setup["examples"]:
        ids, labels = torch.tensor([e.input_ids]), torch.tensor(e.labels)
        logits = model(input_ids=ids).logits[0]
        per_token = F.cross_entropy(logits[:-1], labels[1:], ignore_index=-100, reduction="sum")
        sums.append(per_token)
        counts.append(int((labels[1:] != -100).sum()))
    if mode == "sequence":
        loss = sum(s / c for s, c in zip(sums, counts)) / len(sums)
    else:
        loss = sum(sums) / sum(counts)
    loss.backward()
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _assert_equal_grads(got: dict, want: dict, what: str) -> None:
    assert got.keys() == want.keys(), what
    for n in want:
        assert torch.allclose(got[n], want[n], rtol=RTOL, atol=ATOL), \
            (what, n, float((got[n] - want[n]).abs().max()), float(want[n].abs().max()))


def _spec(setup, out: Path, **sft) -> dict:
    return {"base": setup["base"], "tokenizer": str(Path(setup["base"]) / "tokenizer"), "selected": setup["selected"],
            "sft": {**setup["sft"], **sft}, "modes": ["sequence", "token"], "out": str(out)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_loss_average_references_differ(setup):
    """The two objectives give different gradients here, so each comparison below can fail."""
    seq, tok = _reference(setup, "sequence"), _reference(setup, "token")
    rel = max(float((seq[n] - tok[n]).norm() / tok[n].norm()) for n in tok if tok[n].norm() > 0)
    assert rel > 0.2, rel


@pytest.mark.parametrize("per_device", [1, 2], ids=["accumulation2", "padded_batch2"])
def test_loss_average_one_process_equals_the_references(setup, tmp_path, per_device):
    sft_grad_probe.run(_spec(setup, tmp_path, per_device_batch_size=per_device))
    for mode in ("sequence", "token"):
        _assert_equal_grads(torch.load(tmp_path / f"{mode}.pt"), _reference(setup, mode), f"{mode} x{per_device}")


def test_loss_average_two_gloo_processes_equal_the_references(setup, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(_spec(setup, tmp_path)))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(ROOT / "tests" / "sft_grad_probe.py"),
           str(spec)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for mode in ("sequence", "token"):
        _assert_equal_grads(torch.load(tmp_path / f"{mode}.pt"), _reference(setup, mode), f"{mode}, 2 processes")
