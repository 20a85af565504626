"""Re-grading saved samples with the current graders, without generating anything again.

Used when the graders change (issue 29: a grade only for a stated answer): the evaluate
stage re-grades an entry cached under the previous grading rule instead of serving it
(:func:`s1x.evaluate.stage.evaluate_stage`), and ``python -m s1x.analysis regrade <dir>``
re-grades a run dir or an lm-eval import in place and says how many grades changed.

Each sample record is graded again from the text it was graded on (``answer_text``; an
lm-eval import's ``response``) with its own grader; records graded by the LLM judge keep
their verdict (re-asking needs the judge model). The rows are then recomputed from their
samples: ``accuracy`` and ``unparsed_rate``; majority vote's maj@k rows by voting again over
the new extracted answers; the extra graders' ``grades`` and disagreement reports again.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from s1x.grading import grade_many
from s1x.records import read_jsonl, write_json, write_jsonl

JUDGE = "judge"
GRADE_TIMEOUT_S = 5.0  # the evaluation's (s1x.evaluate.sample_records), kept here: the analysis loads no torch


@dataclass
class Regraded:
    """What a re-grading changed: samples graded again, of them with another verdict."""

    samples: int = 0
    changed: int = 0

    def add(self, other: "Regraded") -> None:
        self.samples += other.samples
        self.changed += other.changed


def regrade_records(records: list[dict], extraction: str = "s1x", unparsed_choice: str | None = None) -> Regraded:
    """Grade every record again in place (``extracted``, ``correct``, ``grade_timed_out``,
    ``unparsed``) and the extra graders of its ``grades``; judge verdicts are kept."""
    todo = [r for r in records if r.get("grader") != JUDGE]
    texts = [r["answer_text"] if "answer_text" in r else r["response"] for r in todo]
    out = Regraded(len(todo))
    if not todo:
        return out
    grades = grade_many(texts, [str(r["gold"]) for r in todo], [r["grader"] for r in todo],
                        timeout_s=GRADE_TIMEOUT_S, extraction=extraction, unparsed_choice=unparsed_choice)
    for r, g in zip(todo, grades):
        out.changed += bool(r.get("correct")) != g.correct
        r.update(extracted=g.extracted, correct=g.correct, grade_timed_out=g.timed_out, unparsed=g.unparsed)
    extra = sorted({k for r in todo for k in r.get("grades", {}) if k not in (JUDGE, r["grader"])})
    for kind in extra:
        with_kind = [(r, t) for r, t in zip(todo, texts) if kind in r.get("grades", {})]
        again = grade_many([t for _, t in with_kind], [str(r["gold"]) for r, _ in with_kind], kind,
                           timeout_s=GRADE_TIMEOUT_S, extraction=extraction, unparsed_choice=unparsed_choice)
        for (r, _), g in zip(with_kind, again):
            r["grades"][kind] = g.correct
    for r in todo:
        if "grades" in r:
            r["grades"][r["grader"]] = r["correct"]
    return out


def _disagreements(records: list[dict]) -> list[dict]:
    return [{"id": s["id"], "gold": s["gold"], "extracted": s["extracted"], "grades": s["grades"]}
            for s in records if len(set(s.get("grades", {}).values())) > 1]


def regrade_rows(base: Path, rows: list[dict], extraction: str = "s1x", unparsed_choice: str | None = None,
                 vote_subsets: int = 1000, seed: int = 0, maj_estimator: str = "subsets") -> Regraded:
    """Re-grade the samples the ``rows`` point to (``samples`` paths relative to ``base``), rewrite
    them and update the rows in place; maj@k rows (their ``samples`` is a ``votes.jsonl``) vote
    again over the re-graded samples beside them, with the evaluation's ballots
    (:mod:`s1x.evaluate.votes`: votes grouped by the grader's equivalence; ``maj_estimator``,
    ``vote_subsets`` and ``seed`` as the run's)."""
    # votes.py needs only grading and numpy: the analysis still loads without the training stack.
    from s1x.evaluate.votes import maj_score, rule_equal, vote_keys

    total = Regraded()
    done: dict[Path, list[dict]] = {}
    ballots: dict[str, tuple] = {}  # majority: question id -> (answers, votes), shared by its k rows

    def records_of(path: Path) -> list[dict]:
        if path not in done:
            done[path] = read_jsonl(path)
            total.add(regrade_records(done[path], extraction, unparsed_choice))
            write_jsonl(path, done[path])
            if (path.parent / "disagreements.jsonl").exists():
                write_jsonl(path.parent / "disagreements.jsonl", _disagreements(done[path]))
        return done[path]

    for row in rows:
        path = base / row["samples"]
        if path.name == "votes.jsonl":  # maj@k: the K samples per question are in <method>/samples.jsonl
            records = records_of(path.parent.parent / "samples.jsonl")
            by_q: dict[str, list[dict]] = {}
            for r in records:
                by_q.setdefault(r["id"], []).append(r)
            votes = read_jsonl(path)
            for v in votes:  # a question's ballots are the same for every k: built once
                if v["id"] not in ballots:
                    rs = sorted(by_q[v["id"]], key=lambda r: r.get("sample_index", 0))
                    answers = [r["extracted"] or None for r in rs]
                    ballots[v["id"]] = answers, vote_keys(answers, [r["correct"] for r in rs], rule_equal(rs[0]["grader"]))
                v["answers"], v["votes"] = ballots[v["id"]]
                v["correct"] = maj_score(v["votes"], v["k"], maj_estimator, vote_subsets, seed)
            write_jsonl(path, votes)
            row["accuracy"] = sum(v["correct"] for v in votes) / len(votes)
        else:
            records = records_of(path)
            if not records:
                continue
            by_q = {}
            for r in records:  # an imported log may hold several responses per question
                by_q.setdefault(r["id"], []).append(r["correct"])
            row["accuracy"] = sum(sum(v) / len(v) for v in by_q.values()) / len(by_q)
            if "grader_disagreements" in row:
                row["grader_disagreements"] = len(_disagreements(records))
        row["unparsed_rate"] = sum(bool(r.get("unparsed")) for r in records) / max(1, len(records))
    return total


def regrade_run_dir(run_dir: Path) -> Regraded:
    """Re-grade a run dir (``results.json`` and the samples its rows name) or an lm-eval import in
    place; the benchmark's extraction and ``unparsed_choice`` come from its ``config.yaml``."""
    results_path = run_dir / "results.json"
    results = json.loads(results_path.read_text())
    config = _config(run_dir)
    total = Regraded()
    for bench in sorted({r["benchmark"] for r in results["results"]}):
        bcfg = (config.get("benchmark") or {}).get(bench) or {}
        method = config.get("method") or {}
        if bcfg.get("choice_llm"):  # its letters came from the judge LLM: the rule reader would undo them
            print(f"s1x: {bench} in {run_dir} was graded with choice_llm (an LLM's letters): left as it is",
                  file=sys.stderr)
            continue
        rows = [r for r in results["results"] if r["benchmark"] == bench]
        total.add(regrade_rows(run_dir, rows, bcfg.get("extraction", "s1x"), bcfg.get("unparsed_choice"),
                               method.get("vote_subsets", 1000), config.get("seed", 0),
                               method.get("maj_estimator", "subsets")))
    write_json(results_path, results)
    return total


def _config(run_dir: Path) -> dict:
    path = run_dir / "config.yaml"
    if not path.exists():
        return {}
    import yaml

    return yaml.safe_load(path.read_text()) or {}
