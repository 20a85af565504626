"""Checks on everything ``s1x.analysis`` reads: ``results.json``, the samples files its rows
name, ``.hydra/overrides.yaml``, ``config.yaml``.

Each malformed case raises :class:`AnalysisInputError` with one line naming the
file and the field (``results[2].accuracy``) and what would fix it; the CLI
prints it and exits 2. A field the contract allows to be null (the thinking
counts of imported lm-eval rows) is not an error: the table or figure that
needs it skips the row and lists it in a note.
"""

from __future__ import annotations

import json
import math
from pathlib import Path


class AnalysisInputError(ValueError):
    """A run dir the analysis cannot read as written; the message names the file and the field."""


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_json(path: Path, what: str):
    """The JSON value in ``path``; unreadable or truncated files name themselves and the position."""
    try:
        text = path.read_text()
    except OSError as e:
        raise AnalysisInputError(f"{path}: cannot read {what} ({e.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise AnalysisInputError(f"{path}: not valid JSON at line {e.lineno} column {e.colno} ({e.msg}); "
                                 f"the {what} is truncated or corrupt: rerun the cell or move its run dir away") from None


def _check_optional(path: Path, field: str, value, kinds: tuple, expected: str) -> None:
    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds):
        raise AnalysisInputError(f"{path}: {field} must be {expected}, got {_kind(value)} {value!r}")


def _check_tokens(path: Path, field: str, value) -> None:
    """A thinking count: null (not measured) or a finite number >= 0."""
    if value is None:
        return
    if not _is_number(value) or math.isnan(value) or math.isinf(value) or value < 0:
        raise AnalysisInputError(f"{path}: {field} must be a number of tokens >= 0 or null, got {value!r}")


def _check_row(path: Path, i: int, row) -> None:
    at = f"results[{i}]"
    if not isinstance(row, dict):
        raise AnalysisInputError(f"{path}: {at} must be an object (one results row), got {_kind(row)}")
    for key in ("benchmark", "method", "budget", "accuracy", "samples"):
        if key not in row:
            raise AnalysisInputError(f"{path}: {at} has no field '{key}' (every results row needs benchmark, "
                                     "method, budget, accuracy, samples)")
    for key in ("benchmark", "method", "samples"):
        if not isinstance(row[key], str) or not row[key]:
            raise AnalysisInputError(f"{path}: {at}.{key} must be a non-empty string, got {_kind(row[key])} "
                                     f"{row[key]!r}")
    _check_optional(path, f"{at}.budget", row["budget"], (int,), "an integer or null")
    acc = row["accuracy"]
    if not _is_number(acc) or not 0 <= acc <= 1:  # NaN fails the comparison too
        hint = " (36.7% is written 0.367: divide by 100)" if _is_number(acc) and 1 < acc <= 100 else ""
        raise AnalysisInputError(f"{path}: {at}.accuracy must be a fraction in [0, 1], got {acc!r}{hint}")
    for key in ("mean_thinking_tokens", "max_thinking_tokens", "budget_tokens"):
        _check_tokens(path, f"{at}.{key}", row.get(key))
    for key in ("controller", "variant"):
        _check_optional(path, f"{at}.{key}", row.get(key), (str,), "a string or null")
    _check_optional(path, f"{at}.n", row.get("n"), (int,), "an integer or null")


def read_results(path: Path) -> dict:
    """A validated ``results.json``: an object with a ``results`` list of rows, each with the
    contract's fields of the right types, and every samples file it names present."""
    res = load_json(path, "results.json")
    if not isinstance(res, dict):
        raise AnalysisInputError(f"{path}: the top level must be an object (the run record), got {_kind(res)}")
    if "results" not in res:
        raise AnalysisInputError(f"{path}: no field 'results' (the list of results rows)")
    if not isinstance(res["results"], list):
        raise AnalysisInputError(f"{path}: results must be a list of rows, got {_kind(res['results'])}")
    _check_optional(path, "choices", res.get("choices"), (dict,), "an object")
    for key in ("selection", "model", "sft"):
        _check_optional(path, f"choices.{key}", (res.get("choices") or {}).get(key), (str,), "a string or null")
    for key in ("setting", "model_path"):
        _check_optional(path, key, res.get(key), (str,), "a string or null")
    _check_optional(path, "seed", res.get("seed"), (int,), "an integer or null")
    stages = res.get("stages")
    if stages is not None and (not isinstance(stages, list) or not all(isinstance(s, str) for s in stages)):
        raise AnalysisInputError(f"{path}: stages must be a list of stage names, got {stages!r}")
    sel = res.get("selection")
    _check_optional(path, "selection", sel, (dict,), "an object (the selection stats)")
    _check_optional(path, "selection.seed", (sel or {}).get("seed"), (int,), "an integer or null")
    for i, row in enumerate(res["results"]):
        _check_row(path, i, row)
        samples = path.parent / row["samples"]
        if not samples.is_file():
            raise AnalysisInputError(f"{samples}: samples file missing (named by {path} results[{i}].samples); "
                                     "copy it back or rerun the cell")
    return res


def read_scores(path: Path) -> dict[str, float]:
    """Per-question correctness from a samples (or votes) file: {question id: mean of ``correct``}.
    Several records of one question (several samples) are averaged."""
    out: dict[str, list[float]] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise AnalysisInputError(f"{path}: cannot read the samples file ({e.strerror})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise AnalysisInputError(f"{path}:{n}: not valid JSON ({e.msg}); the samples file is truncated or "
                                     "corrupt: rerun the cell") from None
        if not isinstance(rec, dict):
            raise AnalysisInputError(f"{path}:{n}: a sample record must be an object, got {_kind(rec)}")
        for key in ("id", "correct"):
            if key not in rec:
                raise AnalysisInputError(f"{path}:{n}: no field '{key}' (each sample needs id and correct)")
        qid, correct = rec["id"], rec["correct"]
        if not isinstance(qid, (str, int)) or isinstance(qid, bool):
            raise AnalysisInputError(f"{path}:{n}: id must be a string or an integer, got {_kind(qid)} {qid!r}")
        if not (isinstance(correct, bool) or _is_number(correct) and 0 <= correct <= 1):
            raise AnalysisInputError(f"{path}:{n}: correct must be true/false or a score in [0, 1], got {correct!r}")
        out.setdefault(str(qid), []).append(float(correct))
    if not out:
        raise AnalysisInputError(f"{path}: the samples file has no records")
    return {k: sum(v) / len(v) for k, v in out.items()}


def read_yaml(path: Path, what: str):
    """The YAML value in ``path`` (a Hydra record); a parse error names the file."""
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise AnalysisInputError(f"{path}: cannot read {what}: {str(e).splitlines()[0]}") from None
