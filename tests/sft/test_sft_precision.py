"""SFT precision (``sft.precision``, ``sft.save_dtype``) on a CPU: the dtypes of weights, AdamW
state and matmuls in a real Trainer run, and how many weights an lr-1e-5 run moves.

The authors load fp32 weights and train with bf16 autocast (AUTHORS_CODE.md, SFT); updates of
lr 1e-5 are below a bf16 weight's resolution at magnitude 0.02 (about 1.2e-4), so pure bf16
training leaves most weights where they were.
"""

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from conftest import ROOT, compose_config
from s1x.sft.precision import cast_checkpoint
from s1x.sft.train import run_sft
from s1x.world import tasks
from s1x.world.pretrain import build_model
from s1x.world.tokenizer import build_tokenizer

STEPS = 10  # 40 examples, global batch 4, one epoch (the lr-1e-5 comparison)


class DtypeProbe(TrainerCallback):
    """Records the parameters', the AdamW state's and every Linear output's dtypes during training."""

    def __init__(self):
        self.params, self.state, self.linear_outputs = set(), set(), set()

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.register_forward_hook(lambda mod, inp, out: self.linear_outputs.add(out.dtype))

    def on_step_end(self, args, state, control, model=None, optimizer=None, **kwargs):
        self.params |= {p.dtype for p in model.parameters()}
        self.state |= {v.dtype for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v) and v.dim()}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A fresh tiny Qwen2 with std-0.02 weights (its initializer range), saved in fp32."""
    tok = build_tokenizer()
    path = tmp_path_factory.mktemp("base")
    model = build_model(tok, {"layers": 2, "hidden": 64, "ffn": 128, "heads": 4, "kv_heads": 2}, seed=0)
    assert model.config.initializer_range == 0.02 and next(model.parameters()).dtype == torch.float32
    model.save_pretrained(path)
    tok.save_pretrained(str(path / "tokenizer"))
    return path, tok


def _train(base, tmp_path, precision: str, save_dtype: str = "fp32", steps: int = STEPS):
    path, tok = base
    selected = [{"question": p.question, "trace": p.trace, "attempt": p.answer}
                for p in tasks.generate(4 * steps, seed=11)]
    cfg = compose_config(["sft.lr=1e-5", f"sft.precision={precision}", f"sft.save_dtype={save_dtype}",
                          "sft.epochs=1", "sft.global_batch_size=4", "sft.per_device_batch_size=4"]).sft
    probe = DtypeProbe()
    out = tmp_path / precision
    stats = run_sft(selected, str(path), tok, cfg, out, seed=0, callbacks=[probe])
    assert stats["steps"] == steps
    return probe, out, stats


def _moved_share(before: dict, after: dict, dtype) -> float:
    """Share of weight elements that differ after training, compared in ``dtype``."""
    moved = sum((after[k].to(dtype) != before[k].to(dtype)).sum().item() for k in after)
    return moved / sum(t.numel() for t in after.values())


def test_fp32_master_weights_move_where_pure_bf16_rounds_updates_away(base, tmp_path):
    initial = load_file(str(base[0] / "model.safetensors"))

    probe, out, stats = _train(base, tmp_path, "fp32_master_bf16_compute")
    # fp32 parameters and AdamW state (exp_avg, exp_avg_sq), matmuls in bf16 (CPU autocast).
    assert probe.params == {torch.float32} and probe.state == {torch.float32}
    assert probe.linear_outputs == {torch.bfloat16}
    master_moved = _moved_share(initial, load_file(str(out / "model.safetensors")), torch.float32)

    probe, out, _ = _train(base, tmp_path, "bf16")
    assert probe.params == {torch.bfloat16} and probe.state == {torch.bfloat16}
    assert probe.linear_outputs == {torch.bfloat16}
    bf16_moved = _moved_share(initial, load_file(str(out / "model.safetensors")), torch.bfloat16)

    print(f"\nweights moved by {STEPS} AdamW steps at lr 1e-5: fp32 master {master_moved:.2%}, pure bf16 {bf16_moved:.2%}")
    assert master_moved > 0.95
    assert bf16_moved < 0.5  # measured ~14%: most bf16 updates round away


def test_fp32_training_without_autocast_and_bf16_checkpoint(base, tmp_path):
    probe, out, stats = _train(base, tmp_path, "fp32", save_dtype="bf16", steps=2)
    assert probe.params == probe.state == probe.linear_outputs == {torch.float32}
    # Saved in bf16 (as the released s1-32B), recorded in the config so dtype=auto loads bf16.
    assert stats["trained_dtypes"] == ["float32"] and stats["save_dtype"] == "bf16"
    saved = load_file(str(out / "model.safetensors"))
    assert {t.dtype for t in saved.values()} == {torch.bfloat16}
    assert json.loads((out / "config.json").read_text())["dtype"] == "bfloat16"
    from s1x.models import load_model

    assert next(load_model(str(out)).parameters()).dtype == torch.bfloat16


def test_cast_checkpoint_rounds_and_rewrites_index(tmp_path):
    from safetensors.torch import save_file

    a, b = torch.randn(4, 4), torch.arange(3)
    save_file({"a": a, "steps": b}, str(tmp_path / "model-00001-of-00001.safetensors"))
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": 64}, "weight_map": {}}))
    (tmp_path / "config.json").write_text(json.dumps({"torch_dtype": "float32"}))
    assert cast_checkpoint(tmp_path, "bf16") == {"model-00001-of-00001.safetensors": ["float32"]}
    t = load_file(str(tmp_path / "model-00001-of-00001.safetensors"))
    assert t["a"].dtype == torch.bfloat16 and torch.equal(t["a"], a.to(torch.bfloat16))
    assert torch.equal(t["steps"], b)  # integer tensors stay as they are
    assert json.loads((tmp_path / "model.safetensors.index.json").read_text())["metadata"]["total_size"] == 16 * 2 + 3 * 8
    assert json.loads((tmp_path / "config.json").read_text()) == {"dtype": "bfloat16", "torch_dtype": "bfloat16"}


def test_paper_sft_shows_its_precision_in_the_composed_config():
    r = subprocess.run([sys.executable, "-m", "s1x.run", "setting=paper", "sft=s1", "--cfg", "job"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "precision: fp32_master_bf16_compute" in r.stdout and "save_dtype: bf16" in r.stdout
    tiny = compose_config().sft
    assert (tiny.precision, tiny.save_dtype) == ("fp32", "fp32")  # the tiny world keeps fp32
