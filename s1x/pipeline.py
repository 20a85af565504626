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
import platform
import shutil
import subprocess
import time
from pathlib import Path

from hydra.utils import get_method
from omegaconf import OmegaConf

from s1x import evaluate as evaluate_mod
from s1x import sft as sft_mod
from s1x.cache import StageCache, stable_hash
from s1x.data import data_version, load_benchmark, load_pool
from s1x.models import load_tokenizer
from s1x.records import read_jsonl, write_json, write_jsonl
from s1x.report import format_results_table
from s1x.selection import selection_stats
from s1x.validation import ConfigError, validate
from s1x.world.tasks import WORLD_VERSION

log = logging.getLogger("s1x")

SELECT_VERSION = 1
PRETRAIN_VERSION = 1


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


def _model_identity(name_or_path: str) -> str:
    """A cache identity for a model given by path (its files' names, sizes, mtimes) or hub id."""
    p = Path(name_or_path)
    if p.exists():
        files = sorted((str(f.relative_to(p)), f.stat().st_size, int(f.stat().st_mtime))
                       for f in p.rglob("*") if f.is_file())
        return stable_hash({"path": str(p.resolve()), "files": files})
    return stable_hash({"hub_id": name_or_path})


class _Run:
    """Bookkeeping of one pipeline run: timings and cache hits per stage."""

    def __init__(self, cache: StageCache):
        self.cache = cache
        self.timings: dict[str, float] = {}
        self.cached: dict[str, bool] = {}

    def stage(self, name: str, key: str, build, meta: dict | None = None):
        t0 = time.time()
        entry = self.cache.get_or_build(name, key, build, meta)
        self.timings[name] = self.timings.get(name, 0.0) + time.time() - t0
        self.cached[name] = self.cached.get(name, True) and entry.cached
        log.info("[%s] %s in %.1f s (%s)", name, "cached" if entry.cached else "computed", time.time() - t0, entry.path)
        return entry


def _tokenizer(model_cfg):
    """The tokenizer of the base model and an identity for cache keys."""
    if model_cfg.name_or_path is None:
        from s1x.world.tokenizer import build_tokenizer, vocabulary

        return build_tokenizer(), stable_hash({"tiny_vocab": vocabulary()})
    return load_tokenizer(model_cfg.name_or_path), _model_identity(model_cfg.name_or_path)


def _base_model(cfg, run: _Run, tokenizer, tok_id: str) -> tuple[str, str]:
    """Path and cache identity of the base model; pretrains the tiny one if needed."""
    m = cfg.model
    if m.name_or_path is not None:
        return m.name_or_path, _model_identity(m.name_or_path)
    from s1x.world.pretrain import pretrain
    from s1x.world.tasks import generate

    spec = {"arch": _plain(m.arch), "pretrain": _plain(m.pretrain), "world": WORLD_VERSION}
    key = run.cache.key("pretrain", PRETRAIN_VERSION, spec, {"tokenizer": tok_id})

    def build(tmp: Path) -> dict:
        p = m.pretrain
        corpus = generate(p.problems, p.seed, choice_share=p.choice_share, split="train")
        stats = pretrain(corpus, tokenizer, tmp, _plain(m.arch), p.steps, p.batch_size, p.lr, p.warmup_steps, p.seed)
        tokenizer.save_pretrained(str(tmp / "tokenizer"))
        return stats

    entry = run.stage("pretrain", key, build, {"config": spec})
    return str(entry.path), entry.key


def run(cfg, out_dir: str | Path) -> dict:
    """Run the stages of ``cfg.stages`` for ``cfg``, writing the run record to ``out_dir``."""
    validate(cfg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    import torch

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    (out_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    run_ = _Run(StageCache(cfg.paths.cache_dir))
    stages = list(cfg.stages)
    tokenizer, tok_id = _tokenizer(cfg.model)
    record: dict = {}

    # select ------------------------------------------------------------------
    select_key = None
    if "select" in stages or "sft" in stages:
        spec = {"pool": _plain(cfg.pool), "selection": _plain(cfg.selection), "data": data_version(cfg.pool)}
        select_key = run_.cache.key("select", SELECT_VERSION, spec, {"tokenizer": tok_id})

        def build_selection(tmp: Path) -> dict:
            pool = load_pool(cfg.pool, tokenizer)
            # The group option names its strategy function; call it with plain values
            # (hydra's `call` would convert the pool records to DictConfig).
            options = _plain(cfg.selection)
            strategy = get_method(options.pop("_target_"))
            options.pop("name")  # a label for reports, not a strategy argument
            chosen = strategy(pool, **options)
            stats = selection_stats(chosen, len(pool), cfg.selection.name, cfg.selection.seed)
            write_jsonl(tmp / "selection.jsonl", chosen)
            write_json(tmp / "selection_stats.json", stats)
            return {"n": len(chosen)}

        if "select" in stages:
            sel = run_.stage("select", select_key, build_selection, {"config": spec})
        else:
            sel = run_.cache.lookup("select", select_key)
            if sel is None:
                raise ConfigError("stages: 'sft' needs this config's selection, which is not in the cache; "
                                  "add select, e.g. stages=[select,sft,evaluate]")
        for name in ("selection.jsonl", "selection_stats.json"):
            shutil.copy2(sel.path / name, out_dir / name)
        record["selection"] = json.loads((sel.path / "selection_stats.json").read_text())

    # base model and sft --------------------------------------------------------
    model_path = model_key = None
    if "sft" in stages or "evaluate" in stages:
        model_path, model_key = _base_model(cfg, run_, tokenizer, tok_id)
    if "sft" in stages:
        spec = {"sft": _plain(cfg.sft), "seed": cfg.seed}
        key = run_.cache.key("sft", sft_mod.STAGE_VERSION, spec, {"selection": select_key, "base": model_key})
        base = model_path

        def build_sft(tmp: Path) -> dict:
            selected = read_jsonl(run_.cache.path("select", select_key) / "selection.jsonl")
            return sft_mod.run_sft(selected, base, tokenizer, cfg.sft, tmp, cfg.seed)

        ckpt = run_.stage("sft", key, build_sft, {"config": spec, "base": base})
        model_path, model_key = str(ckpt.path), ckpt.key
        record["sft"] = run_.cache.meta(ckpt)
        write_json(out_dir / "checkpoint.json", {"path": model_path, "cache_key": model_key, "base": base})
        shutil.copy2(ckpt.path / "train_log.jsonl", out_dir / "train_log.jsonl")

    # evaluate ------------------------------------------------------------------
    rows: list[dict] = []
    if "evaluate" in stages:
        engine = None
        for name, bcfg in cfg.benchmark.items():
            spec = {"method": _plain(cfg.method), "benchmark": _plain(bcfg), "engine": _plain(cfg.engine),
                    "seed": cfg.seed, "data": data_version(bcfg)}
            key = run_.cache.key("evaluate", evaluate_mod.STAGE_VERSION, spec, {"model": model_key})

            def build_eval(tmp: Path, bcfg=bcfg, name=name) -> dict:
                nonlocal engine
                if engine is None:  # built once, and only if some benchmark is not cached
                    from s1x.engines.hf import HFEngine

                    engine = HFEngine(model_path, load_tokenizer(model_path), cfg.engine.batch_size,
                                      cfg.engine.device, cfg.engine.dtype)
                questions = load_benchmark(bcfg)
                bench_rows = evaluate_mod.evaluate_benchmark(engine, engine.tokenizer, questions, name, cfg.method, cfg.seed, tmp)
                write_json(tmp / "rows.json", bench_rows)
                return {"n_questions": len(questions)}

            entry = run_.stage("evaluate", key, build_eval, {"config": spec, "model": model_path})
            dest = out_dir / "eval" / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(entry.path, dest)
            for row in json.loads((entry.path / "rows.json").read_text()):
                row["samples"] = f"eval/{name}/{row['samples']}"
                rows.append(row)

    results = {
        "config_hash": stable_hash(_plain(cfg)),
        "git_hash": _git_hash(),
        "seed": cfg.seed,
        "setting": cfg.setting.name,
        "stages": stages,
        "choices": {"selection": cfg.selection.name, "model": cfg.model.name, "sft": cfg.sft.name,
                    "method": cfg.method.name, "benchmark": list(cfg.benchmark.keys())},
        "model_path": model_path,
        "versions": _versions(),
        "timings_s": {k: round(v, 3) for k, v in run_.timings.items()},
        "cached": run_.cached,
        **record,
        "results": rows,
    }
    write_json(out_dir / "results.json", results)
    if rows:
        table = format_results_table(rows)
        (out_dir / "results.md").write_text(table + "\n")
        print("\n" + table)
    return results
