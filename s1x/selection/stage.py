"""The select stage and the stages it reads: featurize (per pool) and probe (per probe model).

featurize -> probe (one cached entry per probe model) -> select, each keyed by
its config and its inputs' keys, so adding a probe, changing a strategy or a
seed reruns only what changed (a 32B probe over 59K questions is hours of GPU
time). A feature the pool file gives (:mod:`s1x.selection.given`) is not
computed: no tokenizer, grader, classifier or probe model is loaded for it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from hydra.utils import get_method
from omegaconf import OmegaConf

from s1x.engines import local_engine_config, make_engine
from s1x.cache import StageRunner, stable_hash
from s1x.data.benchmarks import load_benchmark
from s1x.models import load_tokenizer, model_identity
from s1x.records import PoolProblem, read_jsonl, write_json, write_jsonl
from s1x.data.rows import data_version, without_located_path
from s1x.selection.featurize import featurize, given_features, run_probe, text_completer
from s1x.selection.funnel import curate, selection_stats
from s1x.selection.given import probe_feature
from s1x.selection.msc import classify_domains
from s1x.selection.pools import load_pool
from s1x.selection.strategies import select_s1k
from s1x.errors import ConfigError, InputError

log = logging.getLogger("s1x")

# select 3: the notebook's funnel options, quality applied here; featurize 2: given features,
# null features, no quality flags; probe 2: the authors' chat prompt (no think delimiter), temperature.
SELECT_VERSION = 3
# 3: attempts and probe answers graded by the stated-answer rule (issue 29), so grades cached
# under the old rule are computed again instead of served.
FEATURIZE_VERSION = 3
PROBE_VERSION = 3


def _plain(node) -> dict:
    return OmegaConf.to_container(node, resolve=True)


def probes_needed(cfg) -> bool:
    """Whether the selection reads probe answers (the difficulty filter, with probes configured)."""
    return "difficulty" in cfg.selection.filters and len(cfg.pool.featurize.probes) > 0


def benchmark_identities(cfg, memo=None) -> dict:
    """What decontamination compares against: every configured benchmark's questions (the config
    fields that choose them, not how they are graded) and data version."""
    keep = ("kind", "path", "hub_config", "split", "size", "seed", "choice", "min_items", "max_items")
    out = {}
    for name, b in cfg.benchmark.items():
        data = data_version(b, memo)
        out[name] = {"spec": without_located_path({k: b[k] for k in keep}, data), "data": data}
    return out


def selection_spec(cfg, memo=None) -> dict:
    """What determines the select stage's output besides its inputs' keys."""
    decon = "decontaminate" in cfg.selection.filters
    data = data_version(cfg.pool, memo)
    return {"pool": without_located_path(_plain(cfg.pool), data), "selection": _plain(cfg.selection), "data": data,
            "decontaminate": benchmark_identities(cfg, memo) if decon else None}


def select(pool: list[PoolProblem], sel_cfg, benchmarks: dict[str, list[str]]) -> tuple[list[PoolProblem], dict]:
    """Curate ``pool`` with the selection's filters, then run its strategy; return picks and stats."""
    options = _plain(sel_cfg)
    strategy = get_method(options.pop("_target_"))
    name, filters = options.pop("name"), options.pop("filters")
    keep_rules = options.pop("keep", [])
    quality_rules = options.pop("quality_rules")
    keep_before = options.pop("keep_before_difficulty", False)
    kept, candidates, funnel = curate(pool, filters, benchmarks, keep_rules, quality_rules=quality_rules,
                                      keep_before_difficulty=keep_before)
    if strategy is select_s1k:
        weights = options.pop("domain_weights")
        # notebook: over the curated (difficulty-filtered) set, int()-truncated; s1x: over the whole
        # pool before filtering, untruncated (what the benchmarks ask, not what survived).
        options.update(kept=kept, weight_pool=pool if weights == "s1x" else None,
                       truncate_weights=weights == "notebook")
    try:
        chosen = strategy(candidates, **options)
    except ValueError as e:  # too few candidates for selection.n, too many kept: a config matter
        raise ConfigError(f"{e} (funnel: " + ", ".join(f"{s['step']} {s['count']}" for s in funnel.steps) + ")") from None
    missing = [p for p in chosen if not p.trace.strip()]
    if missing:  # SFT would learn an empty thinking segment
        raise InputError(f"pool: {len(missing)} selected problems have no trace (e.g. id {missing[0].id}, source "
                         f"{missing[0].source!r}); add 'quality' to selection.filters or fix the pool")
    stats = selection_stats(chosen, funnel, name, sel_cfg.seed, filters)
    given = given_features(pool)
    stats["features"] = {"given": given, "computed": [f for f in _features_read(pool) if f not in given]}
    # What SFT trains on, not only which ids: s1K and s1K-1.1 share questions but not traces.
    stats["ids_hash"] = stable_hash([(p.id, p.question, p.trace, p.attempt) for p in chosen])
    return chosen, stats


def _features_read(pool: list[PoolProblem]) -> list[str]:
    probes = sorted({k for p in pool[:1] for k in p.features.get("probes", {})})
    return ["domain", "trace_tokens", "attempt_correct"] + [probe_feature(k) for k in probes]


def selection_stage(cfg, runner: StageRunner, tokenizer, tok_id: str, build: bool, base_model,
                    questions: dict | None = None):
    """The select stage entry and its inputs (features, probe answers), built when ``build``,
    otherwise looked up (``stages`` without ``select``). ``tokenizer()`` loads the base model's
    tokenizer, called only when something needs it; ``base_model()`` builds or finds the tiny
    base model when a probe is one of its checkpoints; ``questions`` are the benchmarks' questions
    the pipeline already loaded (for decontamination). Returns (entry, base or None)."""

    def stage(name: str, key: str, builder, meta: dict, resumable: bool = False):
        if build:
            return runner.stage(name, key, builder, meta, resumable=resumable)
        entry = runner.cache.lookup(name, key)
        if entry is None:
            raise ConfigError(f"stages: 'sft' needs this config's {name} output, which is not in the cache; "
                              "add select, e.g. stages=[select,sft,evaluate]")
        return entry

    memo = runner.cache.memo
    fcfg = cfg.pool.featurize
    data = data_version(cfg.pool, memo)
    pool_spec = {"pool": without_located_path({k: v for k, v in _plain(cfg.pool).items() if k != "featurize"}, data),
                 "data": data}
    feat_tok_id = tok_id if fcfg.tokenizer is None else model_identity(fcfg.tokenizer, memo)
    feat_spec = {**pool_spec, "tokenizer": feat_tok_id, "attempt_grader": fcfg.attempt_grader,
                 "classifier": _plain(fcfg.classifier) if fcfg.classifier.model else None}
    feat_key = runner.cache.key("featurize", FEATURIZE_VERSION, feat_spec, {})

    def build_features(tmp: Path) -> dict:
        try:
            pool = load_pool(cfg.pool)
        except ValueError as e:  # a file without the s1K columns, a feature given twice
            raise ConfigError(f"pool.path={cfg.pool.path}: {e}") from e
        given = given_features(pool)
        classify = _classifier(cfg, runner) if fcfg.classifier.model and "domain" not in given else None
        feat_tok = None
        if "trace_tokens" not in given:  # the (Qwen) tokenizer loads only to count lengths
            feat_tok = tokenizer() if fcfg.tokenizer is None else load_tokenizer(fcfg.tokenizer)
        feats = featurize(pool, feat_tok, fcfg.attempt_grader, classify)
        for p in pool:
            p.features.update(feats[p.id])
            p.domain = p.features.get("domain") or ""
        write_jsonl(tmp / "pool.jsonl", pool)
        return {"n": len(pool), "given": given}

    feats = stage("featurize", feat_key, build_features, {"config": feat_spec})
    meta = runner.cache.meta(feats)
    given = meta.get("given", [])
    if cfg.selection.n is not None and cfg.selection.n > meta["n"]:  # known now, before any probe or pretraining
        raise ConfigError(f"selection.n={cfg.selection.n} is invalid: the pool has {meta['n']} problems before any "
                          "filter; lower selection.n or use a larger pool")

    base = None
    probes = {}
    to_run = [pr for pr in fcfg.probes if probe_feature(pr.name) not in given] if probes_needed(cfg) else []
    if any(pr.model == "base" or pr.model.startswith("base@") for pr in to_run):
        base = base_model()  # its own stage, not timed inside a probe; its digest identifies the probes
    for pr in to_run:
        if pr.model == "base":  # the run's own base model, as resolved (a hub id, a dir, a converted GGUF)
            identity = base[1]
        elif pr.model.startswith("base@"):
            identity = f"{base[1]}@{int(pr.model.split('@', 1)[1])}"
        else:
            identity = model_identity(pr.model, memo)
        probe_spec = {"probe": {k: v for k, v in _plain(pr).items() if k != "column"}, "model": identity,
                      "engine": {"device": cfg.engine.device, "dtype": cfg.engine.dtype}}
        key = runner.cache.key("probe", PROBE_VERSION, probe_spec, {"features": feats.digest})

        def build_probe(tmp: Path, pr=pr) -> dict:

            if pr.model == "base":
                path, probe_tok = base[0], tokenizer()
            elif pr.model.startswith("base@"):
                path, probe_tok = str(Path(base[0]) / "checkpoints" / f"step-{pr.model.split('@', 1)[1]}"), tokenizer()
            else:
                path, probe_tok = pr.model, load_tokenizer(pr.model)
            pool = [PoolProblem(**r) for r in read_jsonl(feats.path / "pool.jsonl")]
            engine = make_engine(local_engine_config(cfg.engine, pr.batch_size), path, probe_tok)
            answers = _probe_in_chunks(engine, probe_tok, pool, pr, tmp / "answers.partial.jsonl")
            write_json(tmp / "answers.json", answers)
            (tmp / "answers.partial.jsonl").unlink()
            solved = sum(bool(a["correct"]) for a in answers.values())  # None: no reference to grade
            return {"n": len(answers), "solved": solved}

        # Resumable: a killed probe pass keeps the chunks it finished (hours of GPU time at paper scale).
        probes[pr.name] = stage("probe", key, build_probe, {"config": probe_spec}, resumable=True)

    spec = selection_spec(cfg, memo)
    select_key = runner.cache.key("select", SELECT_VERSION, spec,
                                  {"features": feats.digest, **{f"probe:{k}": e.digest for k, e in probes.items()}})

    def build_selection(tmp: Path) -> dict:
        pool = [PoolProblem(**r) for r in read_jsonl(feats.path / "pool.jsonl")]
        for name, entry in probes.items():
            answers = json.loads((entry.path / "answers.json").read_text())
            for p in pool:
                p.features.setdefault("probes", {})[name] = answers[p.id]["correct"]
        benchmarks = ({name: [q.question for q in (questions[name] if questions else load_benchmark(b))]
                       for name, b in cfg.benchmark.items()} if "decontaminate" in cfg.selection.filters else {})
        chosen, stats = select(pool, cfg.selection, benchmarks)
        write_jsonl(tmp / "selection.jsonl", chosen)
        write_json(tmp / "selection_stats.json", stats)
        return {"n": len(chosen)}

    return stage("select", select_key, build_selection, {"config": spec}), base


PROBE_CHUNK_BATCHES = 8  # engine batches per saved chunk: what a kill can lose


def _probe_in_chunks(engine, tokenizer, pool: list[PoolProblem], pr, progress: Path) -> dict[str, dict]:
    """One probe pass, saved chunk by chunk to ``progress`` (JSONL, appended and synced), so a
    rerun after a kill grades only what is missing.

    Chunks are runs of the engine's own batches (problems in the engine's length order, cut
    where it would cut a batch), so under greedy decoding the chunked pass generates exactly
    what one call would; sampled probes (temperature > 0) are reseeded per chunk, so a resumed
    pass draws other samples than an uninterrupted one would (each is a valid draw)."""
    from s1x.batching import length_batches
    from s1x.selection.featurize import probe_prompt

    done: dict[str, dict] = {}
    if progress.exists():
        for line in progress.read_text().splitlines():
            try:
                rec = json.loads(line)
                done[rec["id"]] = rec["answer"]
            except (ValueError, KeyError):  # the line a kill cut short: that problem is probed again
                continue
    if done:
        log.info("[probe] %s: %d of %d problems answered by an interrupted run; probing the rest",
                 pr.name, len({p.id for p in pool} & set(done)), len(pool))
    lengths = [len(tokenizer(probe_prompt(tokenizer, p.question, pr.prompt), add_special_tokens=False)["input_ids"])
               for p in pool]
    order = sorted(range(len(pool)), key=lambda i: lengths[i])
    batches = length_batches(order, lengths, pr.max_new_tokens, engine.batch_size, engine.max_batch_tokens)
    for start in range(0, len(batches), PROBE_CHUNK_BATCHES):
        chunk = [pool[i] for b in batches[start : start + PROBE_CHUNK_BATCHES] for i in b]
        if all(p.id in done for p in chunk):
            continue
        answers = run_probe(engine, tokenizer, chunk, pr.prompt, pr.grader, pr.max_new_tokens, pr.temperature, pr.seed)
        with open(progress, "a") as f:
            for pid, answer in answers.items():
                f.write(json.dumps({"id": pid, "answer": answer}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        done.update(answers)
    return {p.id: done[p.id] for p in pool}


def _classifier(cfg, runner: StageRunner):
    """``{id: question} -> {id: MSC code}`` through the configured classifier model; answers are
    kept in the cache dir per model, so a rerun or a killed run never asks twice."""
    c = cfg.pool.featurize.classifier
    answers = Path(runner.cache.root) / "classify" / f"{stable_hash({'model': model_identity(c.model, runner.cache.memo)})}.jsonl"
    answers.parent.mkdir(parents=True, exist_ok=True)

    def classify(questions: dict[str, str]) -> dict[str, str]:
        # The model (a 32B engine in the paper's configs) loads only when a question lacks a domain.
        tok = load_tokenizer(c.model)
        engine = make_engine(local_engine_config(cfg.engine, c.batch_size), c.model, tok)
        complete = text_completer(engine, tok, c.max_new_tokens)
        return classify_domains(questions, complete, retries=c.retries, answers_path=answers, batch_size=c.batch_size)

    return classify
