"""SFT at paper fidelity: the recipe's numbers, accumulation per layout, trace formats,
the overlong policy, launch commands, and a real 2-process (gloo) run against one process."""

import json
import re

import pytest
import yaml
from omegaconf import OmegaConf

from conftest import compose_config, random_tiny_base
from s1x.sft import distributed
from s1x.formatting import IGNORE_INDEX, annotate_trace, encode_example
from s1x.sft.launch import launch_sft
from s1x.sft.train import OverlongError, encode_selected, gradient_accumulation, run_sft
from s1x.errors import ConfigError
from s1x.config.checks import validate
from s1x.world import tasks
from s1x.world.tokenizer import build_tokenizer

# PAPER.md section 2, every SFT number of the s1 recipe.
PAPER_SFT = {
    "name": "s1", "lr": 1e-5, "epochs": 5, "global_batch_size": 16, "per_device_batch_size": 1,
    "warmup_ratio": 0.05, "lr_scheduler": "cosine", "weight_decay": 1e-4, "adam_beta1": 0.9,
    "adam_beta2": 0.95, "max_grad_norm": 1.0, "loss_average": "sequence", "precision": "fp32_master_bf16_compute", "save_dtype": "bf16",
    "block_size": 32768,
    "gradient_checkpointing": True, "logging_steps": 1, "trace_format": "plain", "chunk_tokens": 100,
    "overlong": "truncate",
    # not the paper's: how s1x survives a preemption (resumable checkpoints; the training is unchanged)
    "checkpoint_every_steps": None, "checkpoint_every_minutes": 30.0,
}


def test_paper_sft_resolves_to_exactly_the_papers_values():
    sft = OmegaConf.to_container(compose_config(["setting=paper", "sft=s1"]).sft, resolve=True)
    assert sft == PAPER_SFT
    # The paper setting picks sft=s1 by itself.
    assert OmegaConf.to_container(compose_config(["setting=paper"]).sft, resolve=True) == PAPER_SFT


def _slurm_env(nodes: int, gpus: int) -> dict:
    return {"SLURM_JOB_ID": "42", "SLURM_NNODES": str(nodes), "SLURM_GPUS_ON_NODE": str(gpus),
            "SLURM_JOB_NODELIST": "gpu[07-08]" if nodes == 2 else "gpu07"}


@pytest.mark.parametrize("nodes, gpus, accum", [(1, 8, 2), (2, 8, 1), (1, 16, 1), (1, 1, 16), (1, 2, 8)])
def test_accumulation_keeps_the_global_batch_at_16(nodes, gpus, accum):
    cfg = compose_config(["setting=paper", "distributed=fsdp"])
    lay = distributed.layout(cfg.distributed, _slurm_env(nodes, gpus))
    assert lay.world_size == nodes * gpus
    assert gradient_accumulation(cfg.sft.global_batch_size, cfg.sft.per_device_batch_size, lay.world_size) == accum
    assert accum * lay.world_size * cfg.sft.per_device_batch_size == 16


def test_a_layout_that_cannot_keep_the_global_batch_is_refused():
    with pytest.raises(ValueError, match="not divisible"):
        gradient_accumulation(16, 1, 3)
    with pytest.raises(ConfigError, match="sft.global_batch_size"):
        validate(compose_config(["distributed=ddp", "distributed.nproc_per_node=3"]))


def test_nodelist_expansion_and_head_node():
    assert distributed.expand_nodelist("gpu[07-09,12],login1") == ["gpu07", "gpu08", "gpu09", "gpu12", "login1"]
    assert distributed.expand_nodelist("a[1-2]-ib,b3") == ["a1-ib", "a2-ib", "b3"]
    assert distributed.expand_nodelist("node001") == ["node001"]
    assert distributed.head_node({"SLURM_JOB_NODELIST": "gpu[07-08]"}) == "gpu07"
    assert distributed.head_node({}) == "127.0.0.1"


def test_single_node_torchrun_command(tmp_path):
    cfg = compose_config(["distributed=ddp", "distributed.nproc_per_node=2"])
    lay = distributed.layout(cfg.distributed, {})
    cmd = distributed.launch_command(cfg.distributed, tmp_path / "spec.json", lay, env={})
    assert cmd[1:3] == ["-m", "torch.distributed.run"]
    assert "--nproc_per_node=2" in cmd and "--nnodes=1" in cmd and "--node_rank=0" in cmd
    assert cmd[-3:] == ["-m", "s1x.sft.worker", str(tmp_path / "spec.json")]


def test_two_node_fsdp_runs_one_accelerate_per_node_through_srun(tmp_path):
    cfg = compose_config(["setting=paper", "distributed=fsdp"])
    env = _slurm_env(2, 8)
    lay = distributed.layout(cfg.distributed, env)
    acc = distributed.write_accelerate_config(cfg.distributed, lay, tmp_path / "accelerate.yaml", cfg.sft.precision)
    cmd = distributed.launch_command(cfg.distributed, tmp_path / "spec.json", lay, acc, env)
    assert cmd[:5] == ["srun", "--overlap", "--nodes=2", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
    inner = cmd[-1]
    assert "--machine_rank=$SLURM_NODEID" in inner  # expanded on each node
    assert "--num_machines=2" in inner and "--num_processes=16" in inner
    assert "--main_process_ip=gpu07" in inner and "accelerate.commands.launch" in inner
    # accelerate's own loader reads the file as the paper's FSDP setup.
    from accelerate.commands.config.config_args import load_config_from_file

    conf = load_config_from_file(str(acc))
    assert conf.distributed_type == "FSDP" and conf.num_processes == 16 and conf.num_machines == 2
    assert conf.fsdp_config["fsdp_sharding_strategy"] == "FULL_SHARD"
    assert conf.fsdp_config["fsdp_transformer_layer_cls_to_wrap"] == "Qwen2DecoderLayer"
    assert conf.fsdp_config["fsdp_cpu_ram_efficient_loading"] is True
    # fp32_master_bf16_compute (sft=s1): bf16 MixedPrecision over the fp32 weights the worker loads.
    assert conf.main_process_ip == "gpu07" and conf.mixed_precision == "bf16"
    for precision in ("bf16", "fp32"):  # the weights' own dtype throughout: no autocast, no MixedPrecision
        other = distributed.write_accelerate_config(cfg.distributed, lay, tmp_path / f"{precision}.yaml", precision)
        assert load_config_from_file(str(other)).mixed_precision == "no"
    # Outside an allocation, several nodes are refused with the fix.
    with pytest.raises(RuntimeError, match="SLURM allocation"):
        distributed.launch_command(cfg.distributed, tmp_path / "spec.json", lay, acc, {})


def test_deepspeed_z3_config_loads_in_accelerate(tmp_path):
    cfg = compose_config(["setting=paper", "distributed=deepspeed_z3"])
    lay = distributed.layout(cfg.distributed, _slurm_env(1, 8))
    acc = distributed.write_accelerate_config(cfg.distributed, lay, tmp_path / "accelerate.yaml", cfg.sft.precision)
    from accelerate.commands.config.config_args import load_config_from_file

    conf = load_config_from_file(str(acc))
    assert conf.distributed_type == "DEEPSPEED" and conf.num_processes == 8
    assert conf.mixed_precision == "bf16"  # ZeRO-3 bf16: bf16 compute, fp32 master weights in the optimizer
    assert conf.deepspeed_config["zero_stage"] == 3 and conf.deepspeed_config["zero3_save_16bit_model"] is True
    assert "gradient_accumulation_steps" not in yaml.safe_load(acc.read_text())["deepspeed_config"]


@pytest.mark.parametrize("fmt", ["plain", "tokens", "steps"])
def test_loss_span_of_every_trace_format_runs_from_think_to_end_of_turn(fmt):
    tok = build_tokenizer()
    for p in tasks.generate(50, seed=5):
        e = encode_example(tok, p.question, p.trace, p.answer, 512, fmt, 32)
        first = next(i for i, lab in enumerate(e.labels) if lab != IGNORE_INDEX)
        span = tok.decode(e.labels[first:])
        assert span.startswith("<|im_start|>think\n") and span.endswith(f"Answer: {p.answer}<|im_end|>")
        assert all(lab == IGNORE_INDEX for lab in e.labels[:first])
        assert e.labels[first:] == e.input_ids[first:]


def test_countdown_formats_count_exactly():
    tok = build_tokenizer()
    for p in tasks.generate(200, seed=6):
        text, bound = annotate_trace(tok, p.trace, "tokens", 32)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert bound % 32 == 0 and len(ids) <= bound < len(ids) + 32 + 8  # rounded up to a chunk
        # Each marker states the bound minus the thinking tokens before it.
        for m in re.finditer(r"(\d+) tokens left", text):
            before = len(tok(text[: m.start()], add_special_tokens=False)["input_ids"])
            assert int(m.group(1)) == bound - before
        assert text.replace("\n", "").count("tokens left") >= 1
        steps, n = annotate_trace(tok, p.trace, "steps", 32)
        counts = [int(x) for x in re.findall(r"(\d+) steps left", steps)]
        assert counts == list(range(n, 0, -1))
        # Removing the markers gives the trace back.
        assert re.sub(r"\d+ steps left\n", "", steps) == p.trace
        assert re.sub(r"\d+ tokens left\n", "", text) == p.trace


def _selected(n: int, seed: int = 11) -> list[dict]:
    return [{"question": p.question, "trace": p.trace, "attempt": p.answer} for p in tasks.generate(n, seed=seed)]


def test_overlong_examples_are_truncated_dropped_or_refused():
    tok = build_tokenizer()
    selected = _selected(40)
    lengths = sorted(e.n_tokens for e in encode_selected(selected, tok, compose_config().sft)[0])
    block = lengths[len(lengths) // 2]  # half the examples are longer
    over = sum(n > block for n in lengths)
    cfg = compose_config([f"sft.block_size={block}"]).sft
    examples, counts = encode_selected(selected, tok, cfg)
    assert counts["n_truncated"] == counts["n_overlong"] == over > 0 and len(examples) == 40
    assert max(len(e.input_ids) for e in examples) == block
    examples, counts = encode_selected(selected, tok, compose_config([f"sft.block_size={block}", "sft.overlong=drop"]).sft)
    assert counts["n_dropped"] == over and len(examples) == 40 - over and counts["n_truncated"] == 0
    with pytest.raises(OverlongError, match=f"{over} of 40 examples exceed sft.block_size={block}"):
        encode_selected(selected, tok, compose_config([f"sft.block_size={block}", "sft.overlong=error"]).sft)


@pytest.fixture(scope="module")
def fresh_base(tmp_path_factory):
    """A randomly initialised tiny model (no pretraining needed to compare two runs)."""
    path = tmp_path_factory.mktemp("base")
    return str(path), random_tiny_base(path)


# Two processes see the same global batches (accelerate shards each batch of 16
# into 2 x 8) and the loss is averaged over the tokens of all processes, so the
# runs differ only by floating-point reduction order.
LOSS_TOLERANCE = 1e-4  # absolute, on every logged loss (~4-6 here; measured differences ~1e-6)


def test_two_process_gloo_sft_matches_one_process(fresh_base, tmp_path):
    base, tok = fresh_base
    selected = _selected(256)
    over = ["sft.epochs=1", "sft.logging_steps=2", "sft.per_device_batch_size=8", "sft.lr=3e-3"]
    one = run_sft(selected, base, tok, compose_config(over).sft, tmp_path / "one", seed=0)
    cfg = compose_config(over + ["distributed=ddp", "distributed.nproc_per_node=2"])
    two = launch_sft(selected, base, tok, cfg.sft, cfg.distributed, tmp_path / "two", seed=0)
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert one["gradient_accumulation"] == 2 and two["gradient_accumulation"] == 1
    assert one["steps"] == two["steps"] == 16
    assert one["final_loss"] < 0.8 * one["first_loss"]  # it trains

    def losses(d):
        return [r["loss"] for r in map(json.loads, (tmp_path / d / "train_log.jsonl").read_text().splitlines())
                if "loss" in r]

    a, b = losses("one"), losses("two")
    assert len(a) == len(b) == 8
    assert max(abs(x - y) for x, y in zip(a, b)) < LOSS_TOLERANCE, (a, b)
    # Rank 0 wrote one ordinary checkpoint with its tokenizer; the launch record stays.
    assert (tmp_path / "two" / "model.safetensors").exists() and (tmp_path / "two" / "tokenizer").is_dir()
    assert "torch.distributed.run" in (tmp_path / "two" / "launch" / "command.txt").read_text()
    assert not (tmp_path / "two" / "launch" / "selected.jsonl").exists()
