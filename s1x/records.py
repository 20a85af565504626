"""Typed records that s1x writes as JSONL (DESIGN.md, Records)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Iterable


@dataclass
class PoolProblem:
    """One candidate training problem, whatever pool it came from."""

    id: str  # stable hash of the question text
    question: str
    solution: str
    answer: str  # the reference answer
    source: str
    domain: str
    trace: str  # the thinking text the model learns
    attempt: str  # the generated final answer text
    features: dict[str, Any] = field(default_factory=dict)  # trace_tokens, probe correctness, quality flags


@dataclass
class BenchmarkQuestion:
    """One evaluation question with its gold answer and how to grade it."""

    id: str
    question: str
    gold: str
    grader: str  # exact | integer | choice
    meta: dict[str, Any] = field(default_factory=dict)


def write_jsonl(path: Path, rows: Iterable[Any]) -> int:
    """Write dataclasses or dicts as JSONL, atomically (temp file, then rename); return the count."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    n = 0
    with open(tmp, "w") as f:
        for row in rows:
            f.write(json.dumps(asdict(row) if is_dataclass(row) else row) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSONL file into a list of dicts."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically, so a reader never sees a half-written file."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, path)


def question_id(question: str) -> str:
    """Stable id of a question: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]
