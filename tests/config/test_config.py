"""Every config option composes; typos and bad values fail before any work."""

import re

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ValidationError

from conftest import CONF, compose_config, run_cli
from s1x.run import rewrite_model_argument
from s1x.errors import ConfigError
from s1x.config.checks import validate

GROUPS = ["setting", "pool", "selection", "model", "sft", "distributed", "method", "benchmark", "engine", "logger", "paths"]


def _options():
    found = sorted(p for p in CONF.rglob("*.yaml") if p.parent != CONF and p.parent.name not in ("method_setting", "selection_setting", "pool_setting"))
    return [(p.parent.name, p.stem) for p in found]


def test_every_group_option_composes_and_validates():
    options = _options()
    # Counted so a new option cannot be silently skipped (the torchtune bug).
    assert len(options) == 54, options
    assert {g for g, _ in options} == set(GROUPS)
    for group, option in options:
        if group == "model" and option == "hub":
            overrides = ["model=hub", "model.name_or_path=/some/checkpoint", "stages=[evaluate]"]
        elif group == "model" and option != "tiny":
            # The tiny pool's probes are the tiny base's checkpoints: other models evaluate,
            # or select from a pool with probes of their own (setting=paper).
            overrides = [f"model={option}", "stages=[evaluate]"]
        elif group == "engine" and option == "openai":
            overrides = ["engine=openai", "engine.base_url=http://127.0.0.1:8000/v1"]
        elif group == "pool" and option == "file":
            overrides = ["pool=file", "pool.path=/data/pool.parquet"]
        elif group == "benchmark":
            overrides = [f"benchmark=[{option}]"]
        else:
            overrides = [f"{group}={option}"]
        # Options with a pair-specific file for the paper (method_setting, pool_setting) compose in both.
        settings = [[], ["setting=paper"]] if group == "method" or (group, option) == ("pool", "file") else [[]]
        for setting in settings:
            cfg = compose_config(overrides + setting)
            validate(cfg)
            OmegaConf.to_container(cfg, resolve=True)


def test_default_config_is_the_tiny_world():
    cfg = compose_config()
    assert cfg.setting.name == "tiny" and cfg.model.name == "tiny" and cfg.pool.kind == "tiny"
    assert list(cfg.stages) == ["select", "sft", "evaluate"]
    assert list(cfg.benchmark) == ["tiny-mixed", "tiny-choice"]
    assert cfg.method.name == "bf" and list(cfg.method.budgets) == [8, 16, 32, 48, 64, 96]


def test_paper_setting_switches_model_pool_sft_benchmarks_and_budgets():
    cfg = compose_config(["setting=paper"])
    assert cfg.model.name_or_path == "Qwen/Qwen2.5-32B-Instruct"
    assert cfg.pool.path == "simplescaling/data_ablation_full59K"
    assert list(cfg.benchmark) == ["aime24", "math500", "gpqa_diamond"]
    gpqa = cfg.benchmark.gpqa_diamond
    assert (gpqa.path, gpqa.hub_config, gpqa.split, gpqa.grader) == ("Idavidrein/gpqa", "gpqa_diamond", "train", "choice")
    s = cfg.sft
    assert (s.lr, s.epochs, s.global_batch_size, s.warmup_ratio, s.weight_decay) == (1e-5, 5, 16, 0.05, 1e-4)
    assert (s.adam_beta1, s.adam_beta2, s.block_size, s.lr_scheduler) == (0.9, 0.95, 32768, "cosine")
    assert (s.precision, s.save_dtype) == ("fp32_master_bf16_compute", "bf16")
    assert list(cfg.method.budgets) == [500, 1000, 2000, 4000, 8000, 16000]  # the authors' BF caps
    # s1K as the notebook selects it (AUTHORS_CODE.md, Selection): funnel, exact source types, > 5600.
    sel = cfg.selection
    assert list(sel.filters) == ["missing", "quality", "difficulty"] and sel.quality_rules == "notebook"
    assert [(k.source, k.match, k.trace_tokens_above, k.require_correct) for k in sel.keep] == [
        ("Idavidrein/gpqa", "exact", None, True), ("qq8933/AIME_1983_2024", "exact", None, True),
        ("qfq/openaimath", "contains", 5600, True)]
    assert [(b.source, b.share, b.match) for b in sel.benchmark_sources] == [
        ("qq8933/AIME_1983_2024", 1.0, "exact"), ("Idavidrein/gpqa", 0.5, "exact")]
    assert (sel.keep_before_difficulty, sel.kept_in_candidates, sel.domain_weights) == (False, True, "notebook")
    # The tiny world keeps s1x's own choices (docs/fidelity.md).
    tiny = compose_config().selection
    assert (tiny.quality_rules, tiny.keep_before_difficulty, tiny.kept_in_candidates, tiny.domain_weights) == (
        "s1x", True, False, "s1x")
    # The probes as the authors ran them (data/bulk_inference.py).
    probes = cfg.pool.featurize.probes
    assert [(p.model, p.column, p.prompt, p.temperature, p.max_new_tokens) for p in probes] == [
        ("Qwen/Qwen2.5-7B-Instruct", "isqwen7bcorrect", "chat", 0.05, 32768),
        ("Qwen/Qwen2.5-32B-Instruct", "isqwen32bcorrect", "chat", 0.05, 32768)]
    # A local pool file in the paper's setting featurizes exactly like the 59K pool.
    file_pool = compose_config(["setting=paper", "pool=file", "pool.path=/data/p.parquet"]).pool
    assert OmegaConf.to_container(file_pool.featurize) == OmegaConf.to_container(cfg.pool.featurize)
    assert compose_config(["pool=file", "pool.path=/data/p.parquet"]).pool.featurize.probes == []
    # Orthogonal groups still override the setting's choices.
    assert compose_config(["setting=paper", "selection=1k-random"]).selection.name == "1k-random"
    assert compose_config(["setting=paper", "sft=tiny"]).sft.name == "tiny"


def test_smol_scaling_setting_bundles_the_chains_recipe():
    from s1x.config.checks import preflight

    cfg = compose_config(["setting=smol-scaling"])
    assert (cfg.model.name, cfg.pool.name, cfg.sft.name, list(cfg.benchmark)) == (
        "smollm2-135m-instruct", "chains", "smol-scaling", ["chains"])
    s = cfg.sft
    assert (s.lr, s.epochs, s.global_batch_size, s.precision, s.loss_average) == (3e-4, 2, 16, "fp32_master_bf16_compute", "sequence")
    sel = cfg.selection
    assert (sel.name, sel.n, list(sel.filters)) == ("s1k", 160, ["dedup", "decontaminate", "quality", "difficulty"])
    assert (list(sel.keep), list(sel.benchmark_sources)) == ([], [])  # domains drawn uniformly
    # Difficulty: the run's own base model as the probe (offline: the converted GGUF), no hub id to check.
    assert [(p.name, p.model, p.grader) for p in cfg.pool.featurize.probes] == [("base", "base", "integer")]
    m = cfg.method
    assert (list(m.budgets), m.controller, m.num_ignore, m.answer_each_ignore) == ([16, 32, 64, 128, 256], "authors", 2, True)
    validate(cfg)
    preflight(cfg)
    # The sweep's other arms: a random selection of the same size, and the base model evaluated as given.
    random = compose_config(["setting=smol-scaling", "selection=1k-random"])
    assert (random.selection.n, list(random.method.budgets)) == (160, [16, 32, 64, 128, 256])
    validate(random)
    validate(compose_config(["setting=smol-scaling", "stages=[evaluate]"]))


def test_misspelled_key_and_wrong_type_fail_at_compose():
    # The typed schemas reject both when the config is composed, before any work.
    with pytest.raises(ConfigCompositionException) as typo:
        compose_config(["method.budgts=[1]"])
    assert isinstance(typo.value.__cause__, ConfigAttributeError)
    assert "Key 'budgts' not in 'MethodConfig'" in str(typo.value.__cause__)
    with pytest.raises(ConfigCompositionException) as wrong_type:
        compose_config(["selection.n=many"])
    assert isinstance(wrong_type.value.__cause__, ValidationError)
    assert "full_key: selection.n" in str(wrong_type.value.__cause__)


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["method.budgets=[16,-5]"], "method.budgets"),
        (["method.budgets=[0]"], "method.budgets"),
        (["stages=[select,train]"], "stages"),
        (["method.num_ignore=-1"], "method.num_ignore"),
        (["method.num_ignore=2", "method.temperature=0.7"], "method.temperature"),
        (["sft.global_batch_size=10", "sft.per_device_batch_size=4"], "sft.global_batch_size"),
        (["selection.n=0"], "selection.n"),
        (["selection=1k-random", "selection.n=null"], "selection.n"),
        (["selection.filters=[dedup,dedupe]"], "selection.filters"),
        (["model.pretrain.checkpoints=[300]"], "pool.featurize.probes[1].model"),
        (["pool=file"], "pool.path"),
        (["pool.featurize.attempt_grader=fuzzy"], "pool.featurize.attempt_grader"),
        (["benchmark.tiny-mixed.extra_graders=[fuzzy]"], "benchmark.tiny-mixed.extra_graders"),
        (["selection.quality_rules=strict"], "selection.quality_rules"),
        (["selection.domain_weights=pool"], "selection.domain_weights"),
        (["selection.keep.0.match=regex"], "selection.keep[0].match"),
        (["pool.featurize.probes.0.temperature=-1"], "pool.featurize.probes[0].temperature"),
        (["sft.precision=fp16"], "sft.precision"),
        (["sft.save_dtype=fp16"], "sft.save_dtype"),
        (["setting=paper", "distributed=deepspeed_z3", "sft.precision=bf16"], "sft.precision"),
        (["setting=paper", "distributed=deepspeed_z3", "sft.save_dtype=fp32"], "sft.save_dtype"),
    ],
)
def test_invalid_values_name_the_key(overrides, key):
    with pytest.raises(ConfigError, match=re.escape(key)):
        validate(compose_config(overrides))


def test_cli_rejects_bad_values_before_any_work(tmp_path):
    r = run_cli(["method.budgets=[-1]"], tmp_path / "cache", tmp_path / "run")
    assert r.returncode == 2
    assert "method.budgets" in r.stderr and "positive" in r.stderr
    assert not (tmp_path / "cache").exists()  # nothing was computed or cached
    r = run_cli(["selection=1k-nope"], tmp_path / "cache", tmp_path / "run2")
    assert r.returncode != 0
    assert "selection" in r.stderr and "1k-random" in r.stderr and "s1k" in r.stderr
    assert not (tmp_path / "cache").exists()


def test_model_argument_accepts_a_path_or_hub_id():
    assert rewrite_model_argument(["model=tiny"]) == ["model=tiny"]
    assert rewrite_model_argument(["stages=[evaluate]", "model=/ckpt/x"]) == [
        "stages=[evaluate]", "model=hub", "model.name_or_path=/ckpt/x", "model.name=/ckpt/x"]
    assert rewrite_model_argument(["model=Qwen/Qwen2.5-7B-Instruct"])[1] == "model.name_or_path=Qwen/Qwen2.5-7B-Instruct"
