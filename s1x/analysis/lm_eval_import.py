"""Import lm-evaluation-harness sample logs (``samples_<task>_<date>.jsonl``) as an s1x run dir.

    python -m s1x.analysis.lm_eval_import samples_aime24_2025-02-01.jsonl --kind integer --benchmark aime24 --out runs/s1-32b

Released outputs (the s1 authors evaluated with lm-eval and ``--log_samples``)
can then be re-graded with s1x's graders and read by ``python -m s1x.analysis``
like any s1x run: the out dir gets ``eval/<benchmark>/imported/samples.jsonl``
and a ``results.json`` with one row per benchmark. lm-eval's own per-sample
metrics are kept under ``lm_eval_metrics`` so both gradings can be compared.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from s1x.grading import KINDS, grade_many
from s1x.records import write_json, write_jsonl

_LM_EVAL_KEYS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
                 "doc_hash", "prompt_hash", "target_hash"}


def _prompt(arguments) -> str:
    """The prompt of a generate_until request, in either lm-eval layout (dict of gen_args, or list)."""
    if isinstance(arguments, dict):
        first = next(iter(arguments.values()), {})
        return str(first.get("arg_0", "")) if isinstance(first, dict) else str(first)
    if isinstance(arguments, list) and arguments:
        first = arguments[0]
        return str(first[0] if isinstance(first, (list, tuple)) else first)
    return ""


def _question(doc: dict, prompt: str) -> str:
    for key in ("problem", "question", "Question", "input"):
        if isinstance(doc.get(key), str):
            return doc[key]
    return prompt


def read_lm_eval_samples(path: Path, kind: str, benchmark: str) -> list[dict]:
    """s1x sample records, one per logged response, re-graded with the grader ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"--kind {kind!r} is not one of: {', '.join(KINDS)}")
    records = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = {"doc_id", "doc", "target", "resps"} - set(row)
        if missing:
            raise ValueError(f"{path}:{n} is not an lm-eval sample log line: no {sorted(missing)}")
        doc = row["doc"] if isinstance(row["doc"], dict) else {}
        prompt = _prompt(row.get("arguments"))
        responses = row["resps"][0] if row["resps"] and isinstance(row["resps"][0], list) else row["resps"]
        metrics = {k: v for k, v in row.items() if k not in _LM_EVAL_KEYS}
        qid = str(doc.get("id", doc.get("unique_id", row["doc_id"])))
        for i, response in enumerate(responses):
            records.append({"id": qid, "question": _question(doc, prompt), "prompt": prompt, "method": "imported",
                            "budget": None, "sample_index": i, "response": str(response), "gold": str(row["target"]),
                            "grader": kind, "lm_eval_metrics": metrics, "benchmark": benchmark})
    grades = grade_many([r["response"] for r in records], [r["gold"] for r in records], kind)
    for r, g in zip(records, grades):
        r.update(extracted=g.extracted, correct=g.correct, grade_timed_out=g.timed_out, unparsed=g.unparsed)
    return records


def import_lm_eval(paths: list[Path], out_dir: Path, kind: str, benchmark: str) -> dict:
    """Write the run dir for lm-eval sample logs of one benchmark; return its results record."""
    records = [r for p in paths for r in read_lm_eval_samples(p, kind, benchmark)]
    rel = f"eval/{benchmark}/imported/samples.jsonl"
    (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / rel, records)
    per_q: dict[str, list[bool]] = {}
    for r in records:
        per_q.setdefault(r["id"], []).append(r["correct"])
    accuracy = sum(sum(v) / len(v) for v in per_q.values()) / max(1, len(per_q))
    results = {"imported_from": [str(p) for p in paths], "stages": ["evaluate"], "choices": {"benchmark": [benchmark]},
               "results": [{"benchmark": benchmark, "method": "imported", "budget": None, "n": len(per_q),
                            "accuracy": accuracy, "mean_thinking_tokens": None, "max_thinking_tokens": None,
                            "within_budget_rate": None, "samples": rel,
                            "unparsed_rate": sum(r["unparsed"] for r in records) / max(1, len(records))}]}
    write_json(out_dir / "results.json", results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s1x.analysis.lm_eval_import", description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", nargs="+", type=Path, help="lm-eval samples_*.jsonl files of one benchmark")
    parser.add_argument("--kind", required=True, choices=KINDS, help="the s1x grader to re-grade with")
    parser.add_argument("--benchmark", required=True, help="the benchmark name to file the results under")
    parser.add_argument("--out", required=True, type=Path, help="the run dir to write")
    args = parser.parse_args(argv)
    for p in args.samples:
        if not p.is_file():
            parser.error(f"{p} is not a file")
    res = import_lm_eval(args.samples, args.out, args.kind, args.benchmark)
    row = res["results"][0]
    print(f"{args.benchmark}: {row['n']} questions, accuracy {100 * row['accuracy']:.1f}% ({args.kind} grader); "
          f"wrote {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
