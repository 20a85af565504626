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
from s1x.data import data_version, load_benchmark
from s1x.featurize import featurize, run_probe, text_completer
from s1x.models import load_tokenizer
from s1x.msc import classify_domains
from s1x.pools import load_pool
from s1x.records import PoolProblem, read_jsonl, write_json, write_jsonl
from s1x.report import format_results_table
from s1x.selection import curate, format_funnel, select_s1k, selection_stats
from s1x.validation import ConfigError, validate
from s1x.world.tasks import WORLD_VERSION

log = logging.getLogger("s1x")

SELECT_VERSION = 2
PRETRAIN_VERSION = 3  # 2: keeps probe checkpoints; 3: half the corpus as chat turns
FEATURIZE_VERSION = 1
PROBE_VERSION = 1


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

    spec = _pretrain_spec(cfg)
    key = run.cache.key("pretrain", PRETRAIN_VERSION, spec, {"tokenizer": tok_id})

    def build(tmp: Path) -> dict:
        p = m.pretrain
        corpus = generate(p.problems, p.seed, choice_share=p.choice_share, split="train")
        stats = pretrain(corpus, tokenizer, tmp, _plain(m.arch), p.steps, p.batch_size, p.lr, p.warmup_steps, p.seed,
                         tuple(p.checkpoints))
        tokenizer.save_pretrained(str(tmp / "tokenizer"))
        return stats

    entry = run.stage("pretrain", key, build, {"config": spec})
    return str(entry.path), entry.key


def _probes_needed(cfg) -> bool:
    return "difficulty" in cfg.selection.filters and len(cfg.pool.featurize.probes) > 0


def _benchmark_identities(cfg) -> dict:
    """What decontamination compares against: every configured benchmark's questions (the config
    fields that choose them, not how they are graded) and data version."""
    keep = ("kind", "path", "hub_config", "split", "size", "seed", "choice", "min_items", "max_items")
    return {name: {"spec": {k: b[k] for k in keep}, "data": data_version(b)} for name, b in cfg.benchmark.items()}


def _select(pool: list[PoolProblem], sel_cfg, benchmarks: dict[str, list[str]]) -> tuple[list[PoolProblem], dict]:
    """Curate ``pool`` with the selection's filters, then run its strategy; return picks and stats."""
    options = _plain(sel_cfg)
    strategy = get_method(options.pop("_target_"))
    name, filters = options.pop("name"), options.pop("filters")
    keep_rules = options.pop("keep", [])
    kept, candidates, funnel = curate(pool, filters, benchmarks, keep_rules)
    if strategy is select_s1k:
        # Domain weights come from the benchmark-like sources before quality/difficulty
        # filtering: they describe what those benchmarks ask, not what survived.
        options.update(kept=kept, weight_pool=pool)
    chosen = strategy(candidates, **options)
    stats = selection_stats(chosen, funnel, name, sel_cfg.seed, filters)
    # What SFT trains on, not only which ids: s1K and s1K-1.1 share questions but not traces.
    stats["ids_hash"] = stable_hash([(p.id, p.question, p.trace, p.attempt) for p in chosen])
    return chosen, stats


def _pretrain_spec(cfg) -> dict:
    return {"arch": _plain(cfg.model.arch), "pretrain": _plain(cfg.model.pretrain), "world": WORLD_VERSION}


def _pretrain_key(cfg, run_: "_Run", tok_id: str) -> str:
    """The tiny base model's cache key, computable without building it (probe identities use it)."""
    return run_.cache.key("pretrain", PRETRAIN_VERSION, _pretrain_spec(cfg), {"tokenizer": tok_id})


def _selection(cfg, run_: "_Run", tokenizer, tok_id: str, spec: dict, build: bool):
    """The select stage entry and its inputs (features, probe answers), built when ``build``,
    otherwise looked up (``stages`` without ``select``). Returns (entry, base model or None)."""

    def stage(name: str, key: str, builder, meta: dict):
        if build:
            return run_.stage(name, key, builder, meta)
        entry = run_.cache.lookup(name, key)
        if entry is None:
            raise ConfigError(f"stages: 'sft' needs this config's {name} output, which is not in the cache; "
                              "add select, e.g. stages=[select,sft,evaluate]")
        return entry

    fcfg = cfg.pool.featurize
    pool_spec = {"pool": {k: v for k, v in _plain(cfg.pool).items() if k != "featurize"}, "data": data_version(cfg.pool)}
    feat_tok_id = tok_id if fcfg.tokenizer is None else _model_identity(fcfg.tokenizer)
    feat_spec = {**pool_spec, "tokenizer": feat_tok_id, "attempt_grader": fcfg.attempt_grader,
                 "classifier": _plain(fcfg.classifier) if fcfg.classifier.model else None}
    feat_key = run_.cache.key("featurize", FEATURIZE_VERSION, feat_spec, {})

    def build_features(tmp: Path) -> dict:
        pool = load_pool(cfg.pool)
        classify = _classifier(cfg, run_) if fcfg.classifier.model else None
        feat_tok = tokenizer if fcfg.tokenizer is None else load_tokenizer(fcfg.tokenizer)
        feats = featurize(pool, feat_tok, fcfg.attempt_grader, classify)
        for p in pool:
            p.features.update(feats[p.id])
            p.domain = feats[p.id]["domain"]
        write_jsonl(tmp / "pool.jsonl", pool)
        return {"n": len(pool)}

    feats = stage("featurize", feat_key, build_features, {"config": feat_spec})

    base = None
    probes = {}
    if build and _probes_needed(cfg) and any(pr.model.startswith("base@") for pr in fcfg.probes):
        base = _base_model(cfg, run_, tokenizer, tok_id)  # its own stage, not timed inside a probe
    if _probes_needed(cfg):
        for pr in fcfg.probes:
            if pr.model.startswith("base@"):
                step = int(pr.model.split("@", 1)[1])
                identity = f"{_pretrain_key(cfg, run_, tok_id)}@{step}"
            else:
                identity = _model_identity(pr.model)
            probe_spec = {"probe": _plain(pr), "model": identity,
                          "engine": {"device": cfg.engine.device, "dtype": cfg.engine.dtype}}
            key = run_.cache.key("probe", PROBE_VERSION, probe_spec, {"features": feats.key})

            def build_probe(tmp: Path, pr=pr) -> dict:
                from s1x.engines.hf import HFEngine

                if pr.model.startswith("base@"):
                    path, probe_tok = str(Path(base[0]) / "checkpoints" / f"step-{pr.model.split('@', 1)[1]}"), tokenizer
                else:
                    path, probe_tok = pr.model, load_tokenizer(pr.model)
                pool = [PoolProblem(**r) for r in read_jsonl(feats.path / "pool.jsonl")]
                engine = HFEngine(path, probe_tok, pr.batch_size, cfg.engine.device, cfg.engine.dtype)
                answers = run_probe(engine, probe_tok, pool, pr.prompt, pr.grader, pr.max_new_tokens)
                write_json(tmp / "answers.json", answers)
                solved = sum(a["correct"] for a in answers.values())
                return {"n": len(answers), "solved": solved}

            probes[pr.name] = stage("probe", key, build_probe, {"config": probe_spec})

    select_key = run_.cache.key("select", SELECT_VERSION, spec,
                                {"features": feats.key, **{f"probe:{k}": e.key for k, e in probes.items()}})

    def build_selection(tmp: Path) -> dict:
        pool = [PoolProblem(**r) for r in read_jsonl(feats.path / "pool.jsonl")]
        for name, entry in probes.items():
            answers = json.loads((entry.path / "answers.json").read_text())
            for p in pool:
                p.features.setdefault("probes", {})[name] = answers[p.id]["correct"]
        benchmarks = ({name: [q.question for q in load_benchmark(b)] for name, b in cfg.benchmark.items()}
                      if "decontaminate" in cfg.selection.filters else {})
        chosen, stats = _select(pool, cfg.selection, benchmarks)
        write_jsonl(tmp / "selection.jsonl", chosen)
        write_json(tmp / "selection_stats.json", stats)
        return {"n": len(chosen)}

    return stage("select", select_key, build_selection, {"config": spec}), base


def _classifier(cfg, run_: "_Run"):
    """``{id: question} -> {id: MSC code}`` through the configured classifier model; answers are
    kept in the cache dir per model, so a rerun or a killed run never asks twice."""
    from s1x.engines.hf import HFEngine

    c = cfg.pool.featurize.classifier
    answers = Path(run_.cache.root) / "classify" / f"{stable_hash({'model': _model_identity(c.model)})}.jsonl"
    answers.parent.mkdir(parents=True, exist_ok=True)

    def classify(questions: dict[str, str]) -> dict[str, str]:
        # The model (a 32B engine in the paper's configs) loads only when a question lacks a domain.
        tok = load_tokenizer(c.model)
        engine = HFEngine(c.model, tok, c.batch_size, cfg.engine.device, cfg.engine.dtype)
        complete = text_completer(engine, tok, c.max_new_tokens)
        return classify_domains(questions, complete, retries=c.retries, answers_path=answers, batch_size=c.batch_size)

    return classify


def _engine(engine_cfg, model_path: str):
    """The configured inference engine over ``model_path``."""
    tokenizer = load_tokenizer(model_path)
    if engine_cfg.name == "vllm":
        from s1x.engines.vllm import VLLMEngine

        return VLLMEngine(model_path, tokenizer, engine_cfg.tensor_parallel_size, engine_cfg.dtype,
                          engine_cfg.gpu_memory_utilization, engine_cfg.max_model_len, engine_cfg.enable_prefix_caching)
    from s1x.engines.hf import HFEngine

    return HFEngine(model_path, tokenizer, engine_cfg.batch_size, engine_cfg.device, engine_cfg.dtype)


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
    selection_hash = None
    base = None  # (path, cache key) of the base model, built once when first needed
    if "select" in stages or "sft" in stages:
        decon = "decontaminate" in cfg.selection.filters
        spec = {"pool": _plain(cfg.pool), "selection": _plain(cfg.selection), "data": data_version(cfg.pool),
                "decontaminate": _benchmark_identities(cfg) if decon else None}
        sel, base = _selection(cfg, run_, tokenizer, tok_id, spec, build="select" in stages)
        for name in ("selection.jsonl", "selection_stats.json"):
            shutil.copy2(sel.path / name, out_dir / name)
        record["selection"] = json.loads((sel.path / "selection_stats.json").read_text())
        selection_hash = record["selection"]["ids_hash"]
        print("\n" + format_funnel(record["selection"]))

    # base model and sft --------------------------------------------------------
    model_path = model_key = None
    if "sft" in stages or "evaluate" in stages:
        model_path, model_key = base or _base_model(cfg, run_, tokenizer, tok_id)
    if "sft" in stages:
        spec = {"sft": _plain(cfg.sft), "seed": cfg.seed}
        if spec["sft"]["trace_format"] == "plain":  # the chunk size only shapes the countdown formats
            spec["sft"].pop("chunk_tokens")
        # Keyed by the selected content, not the select stage: a change that selects the same
        # set (e.g. one more benchmark to decontaminate against) trains nothing new. The
        # distributed layout is not in the key either: it changes how, not what (s1x.distributed).
        key = run_.cache.key("sft", sft_mod.STAGE_VERSION, spec, {"selection": selection_hash, "base": model_key})
        base_path = model_path

        def build_sft(tmp: Path) -> dict:
            selected = read_jsonl(out_dir / "selection.jsonl")
            if cfg.distributed.launcher == "none":
                return sft_mod.run_sft(selected, base_path, tokenizer, cfg.sft, tmp, cfg.seed)
            return sft_mod.launch_sft(selected, base_path, tokenizer, cfg.sft, cfg.distributed, tmp, cfg.seed)

        ckpt = run_.stage("sft", key, build_sft, {"config": spec, "base": base_path})
        model_path, model_key = str(ckpt.path), ckpt.key
        record["sft"] = run_.cache.meta(ckpt)
        write_json(out_dir / "checkpoint.json", {"path": model_path, "cache_key": model_key, "base": base_path})
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
                    engine = _engine(cfg.engine, model_path)
                questions = load_benchmark(bcfg)
                bench_rows = evaluate_mod.evaluate_benchmark(engine, engine.tokenizer, questions, name, cfg.method, cfg.seed, tmp,
                                                         list(bcfg.extra_graders))
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
                    "distributed": cfg.distributed.name,
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
