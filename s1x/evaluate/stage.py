"""The evaluate stage: one cached entry per benchmark (method x benchmark x engine x model).

Evaluation is cached per benchmark, so adding a benchmark to a sweep only
evaluates the new one; the engine is built once, and only when some benchmark
is not cached.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from omegaconf import OmegaConf

from s1x.cache import StageRunner
from s1x.engines import engine_spec, make_engine
from s1x.data.benchmarks import load_benchmark
from s1x.evaluate.evaluator import evaluate_benchmark
from s1x.evaluate.judge_engine import S1X_JUDGE_MAX_TOKENS, judge_max_tokens, judge_template, request_completer, uses_judge
from s1x.evaluate.sample_records import Grading
from s1x.records import write_json
from s1x.data.rows import data_version, without_located_path

log = logging.getLogger("s1x")

STAGE_VERSION = 7  # 2: math grader, graded in worker processes; 3: every method, engine interface, rounds;
# 4: generation_config extras off (top_k, repetition penalty), rs skips cut samples, per-request seeds;
# 5: questions that cannot fit the context are skipped and counted, row.json per cell (resumable)
# 6: a cut adds no newline after any line-ending token (BPE: "\n\n", " \n"), benchmark limit
# 7: graded by the stated answer only (issue 29); a version-6 entry is re-graded from its samples
REGRADED_FROM_VERSION = 6  # entries of this version differ only in grading: re-graded, never regenerated

def _plain(node) -> dict:
    return OmegaConf.to_container(node, resolve=True)


def record_engine_timings(runner: StageRunner, engine) -> None:
    """The engine's load and generation seconds (engines that count them: vllm) in the run's
    timings, as ``evaluate.engine_load`` and ``evaluate.generate`` (parts of ``evaluate``)."""
    for key, attr in (("evaluate.engine_load", "load_s"), ("evaluate.generate", "generate_s")):
        if hasattr(engine, attr):
            runner.timings[key] = getattr(engine, attr)


# Keys this version added to the evaluate spec, with the value under which a run is the one the
# previous version keyed without them: such an entry is found and re-graded, not generated again.
ADDED_KEYS = {"method": {"split_thinking": True, "maj_estimator": "subsets"}, "benchmark": {"choice_llm": False},
              "judge": {"protocol": "s1x"}}


def previous_spec(spec: dict) -> dict | None:
    """The spec the previous version (REGRADED_FROM_VERSION) gave the same run, or None when the
    run uses something that version did not have (a new key away from its default)."""
    old = json.loads(json.dumps(spec))
    for part, added in ADDED_KEYS.items():
        if part not in old:
            continue
        for key, value in added.items():
            if key in old[part] and old[part].pop(key) != value:
                return None
    if "judge" in old and old["judge"].get("max_new_tokens") is None:
        old["judge"]["max_new_tokens"] = S1X_JUDGE_MAX_TOKENS  # null now means the protocol's own
    return old


def regrade_entry(old: Path, tmp: Path, bcfg, method, seed: int, old_key: str) -> dict:
    """Build an evaluate entry from one cached under the previous grading rule: its files copied,
    its samples graded again (:mod:`s1x.evaluate.regrade`), its rows recomputed."""
    from s1x.evaluate.regrade import regrade_rows

    for f in old.iterdir():
        if f.name in ("manifest.json", "meta.json"):
            continue
        if f.is_dir():  # a resumable build dir may hold what an interrupted re-grading left
            shutil.copytree(f, tmp / f.name, dirs_exist_ok=True)
        else:
            shutil.copy2(f, tmp / f.name)
    rows = json.loads((tmp / "rows.json").read_text())
    done = regrade_rows(tmp, rows, bcfg.extraction, bcfg.unparsed_choice, method.get("vote_subsets", 1000), seed,
                        method.get("maj_estimator", "subsets"))
    for row in rows:
        cell_row = (tmp / row["samples"]).parent / "row.json"
        if cell_row.exists() and json.loads(cell_row.read_text()).get("samples") == row["samples"]:
            write_json(cell_row, row)
    write_json(tmp / "rows.json", rows)
    log.info("[evaluate] re-graded %d samples of cache entry %s under the stated-answer rule: %d grades changed",
             done.samples, old_key, done.changed)
    old_meta = json.loads((old / "meta.json").read_text())
    return {"n_questions": old_meta.get("n_questions"), "regraded_from": old_key,
            "regraded_samples": done.samples, "grades_changed": done.changed}


def evaluate_stage(cfg, runner: StageRunner, model_path: str, model_identity: str, out_dir: Path,
                   questions: dict | None = None) -> list[dict]:
    """Evaluate ``cfg.method`` on every configured benchmark; copy the samples into the run dir
    and return the results rows (``samples`` paths relative to the run dir)."""
    rows: list[dict] = []
    engine = judge = None
    for name, bcfg in cfg.benchmark.items():
        limit = bcfg.limit if bcfg.limit is not None else cfg.setting.get("benchmark_limit")
        data = data_version(bcfg, runner.cache.memo)
        spec = {"method": _plain(cfg.method), "benchmark": {**without_located_path(_plain(bcfg), data), "limit": limit},
                "engine": engine_spec(cfg.engine), "seed": cfg.seed, "data": data}
        if uses_judge(bcfg):  # only then: runs without a judge keep their cache keys
            spec["judge"] = {**_plain(cfg.judge), "engine": engine_spec(cfg.judge.engine)}
        key = runner.cache.key("evaluate", STAGE_VERSION, spec, {"model": model_identity})
        legacy = previous_spec(spec)
        old_key = runner.cache.key("evaluate", REGRADED_FROM_VERSION, legacy, {"model": model_identity}) if legacy else None

        def build(tmp: Path, bcfg=bcfg, name=name, limit=limit, old_key=old_key) -> dict:
            nonlocal engine, judge
            old = runner.cache.lookup("evaluate", old_key) if old_key else None
            if old is not None:  # generated under the previous grading rule: re-grade, do not regenerate
                return regrade_entry(old.path, tmp, bcfg, cfg.method, cfg.seed, old_key)
            if engine is None:  # built once, and only if some benchmark is not cached
                engine = make_engine(cfg.engine, model_path)
            if judge is None and uses_judge(bcfg):
                judge = request_completer(make_engine(cfg.judge.engine, cfg.judge.model), judge_max_tokens(cfg.judge))
            qs = (questions[name] if questions else load_benchmark(bcfg))[:limit]  # limit None: all of them
            grading = Grading(bcfg.extraction, bcfg.unparsed_choice, judge if uses_judge(bcfg) else None,
                              cfg.judge.retries, cfg.judge.protocol, judge_template(name), bcfg.choice_llm)
            bench_rows = evaluate_benchmark(engine, engine.tokenizer, qs, name, cfg.method, cfg.seed, tmp,
                                            list(bcfg.extra_graders), grading, cfg.engine.on_context_overflow)
            write_json(tmp / "rows.json", bench_rows)
            return {"n_questions": len(qs)}

        # Resumable: a killed evaluation keeps its finished cells (each cell's row.json is written last).
        entry = runner.stage("evaluate", key, build, {"config": spec, "model": model_path}, resumable=True)
        record_engine_timings(runner, engine)
        dest = out_dir / "eval" / name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(entry.path, dest)
        for row in json.loads((entry.path / "rows.json").read_text()):
            row["samples"] = f"eval/{name}/{row['samples']}"
            rows.append(row)
    return rows
