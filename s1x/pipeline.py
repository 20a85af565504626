"""The whole s1 pipeline as one importable function: ``run(cfg, out_dir) -> results``.

pretrain (tiny world only) -> select -> sft -> evaluate, each stage a pure
function of its config and its inputs' cache keys, stored in the stage cache
(:mod:`s1x.cache`). The run dir receives copies of (or pointers to) what the
stages produced and ``results.json``, written last and atomically, so a run
dir with a ``results.json`` is a finished run.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

from omegaconf import OmegaConf

from s1x.cache import StageCache, StageRunner, stable_hash
from s1x.evaluate.results_table import format_results_table
from s1x.records import write_json
from s1x.selection.funnel import format_funnel
from s1x.config.checks import preflight, validate

log = logging.getLogger("s1x")


def _plain(node) -> dict:
    return OmegaConf.to_container(node, resolve=True)


def _git_hash() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict:
    import torch
    import transformers

    try:
        import vllm  # noqa: F401

        vllm_version = vllm.__version__
    except ImportError:
        vllm_version = None
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "vllm": vllm_version}


def _tokenizer(resolved):
    """A loader of the base model's tokenizer and its identity for cache keys. A hub tokenizer
    loads on first use only: a selection whose pool gives its trace lengths, or a run served
    from the cache, never needs it (and may run where the hub is out of reach)."""
    if resolved is None:
        from s1x.world.stage import tiny_tokenizer

        tok, tok_id = tiny_tokenizer()
        return (lambda: tok), tok_id
    from s1x.models import load_tokenizer

    loaded: list = []

    def load():
        if not loaded:
            loaded.append(load_tokenizer(resolved.path))
        return loaded[0]

    return load, resolved.identity


def _set_aside_previous_results(out_dir: Path) -> None:
    """A rerun into a run dir moves the last ``results.json`` aside first: until this run writes
    its own, the dir must not look finished (the analysis would read the old numbers)."""
    old = out_dir / "results.json"
    if old.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(old.stat().st_mtime))
        aside = out_dir / f"results.previous-{stamp}.json"
        os.replace(old, aside)
        log.warning("s1x: %s held a finished run; its results.json is now %s", out_dir, aside.name)


def run(cfg, out_dir: str | Path) -> dict:
    """Run the stages of ``cfg.stages`` for ``cfg``, writing the run record to ``out_dir``."""
    validate(cfg)
    preflight(cfg)
    stages = list(cfg.stages)
    questions = None  # every benchmark's questions, loaded (and their rows checked) before any stage
    if "evaluate" in stages or ({"select", "sft"} & set(stages) and "decontaminate" in cfg.selection.filters):
        from s1x.data.benchmarks import load_benchmark

        questions = {name: load_benchmark(b) for name, b in cfg.benchmark.items()}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _set_aside_previous_results(out_dir)
    import torch

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    (out_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    runner = StageRunner(StageCache(cfg.paths.cache_dir, cfg.cache.verify, cfg.cache.on_corrupt))
    from s1x.models.source import resolve_model  # imports torch: after every check that can fail fast

    resolved = resolve_model(cfg.model, cfg.paths.cache_dir)  # a hub id, a local dir, or a converted GGUF
    if resolved is not None and resolved.note:
        print(f"s1x: model {cfg.model.name}: {resolved.note}")
    tokenizer, tok_id = _tokenizer(resolved)
    record: dict = {}

    # pretrain (model=tiny only) --------------------------------------------------
    # The base model: a given one as resolved, or the tiny world's pretrain stage, run on first
    # need (the difficulty probes of its checkpoints, sft, evaluate) and cached like every stage.
    base: tuple[str, str] | None = None  # (path, content identity) of the base model, built once when first needed

    def base_model() -> tuple[str, str]:
        nonlocal base
        if base is None:
            if resolved is not None:
                base = resolved.path, resolved.identity
            else:
                from s1x.world.stage import pretrained_base

                base = pretrained_base(cfg, runner, tokenizer(), tok_id)
        return base

    # select ------------------------------------------------------------------
    selection_hash = None
    if "select" in stages or "sft" in stages:
        from s1x.selection.stage import selection_stage

        sel, _ = selection_stage(cfg, runner, tokenizer, tok_id, "select" in stages, base_model, questions)
        for name in ("selection.jsonl", "selection_stats.json"):
            shutil.copy2(sel.path / name, out_dir / name)
        record["selection"] = json.loads((sel.path / "selection_stats.json").read_text())
        selection_hash = record["selection"]["ids_hash"]
        print("\n" + format_funnel(record["selection"]))

    # base model and sft --------------------------------------------------------
    model_path = model_id = None
    if "sft" in stages or "evaluate" in stages:
        model_path, model_id = base_model()
    if "sft" in stages:
        from s1x.sft.stage import sft_stage

        model_path, model_id, record["sft"] = sft_stage(cfg, runner, tokenizer, model_path, model_id,
                                                         selection_hash, out_dir)

    # evaluate ------------------------------------------------------------------
    rows: list[dict] = []
    if "evaluate" in stages:
        from s1x.evaluate.stage import evaluate_stage

        rows = evaluate_stage(cfg, runner, model_path, model_id, out_dir, questions)
    results = {
        "config_hash": stable_hash(_plain(cfg)),
        "git_hash": _git_hash(),
        "seed": cfg.seed,
        "setting": cfg.setting.name,
        "stages": stages,
        "choices": {"selection": cfg.selection.name, "model": cfg.model.name, "sft": cfg.sft.name,
                    "distributed": cfg.distributed.name,
                    "method": cfg.method.name, "benchmark": list(cfg.benchmark.keys())},
        "model_path": model_path,
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in runner.timings.items()},
        "cached": runner.cached,
        **record,
        "results": rows,
    }
    write_json(out_dir / "results.json", results)
    if rows:
        table = format_results_table(rows)
        (out_dir / "results.md").write_text(table + "\n")
        print("\n" + table)
    return results
