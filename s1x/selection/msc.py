"""Domain classification with the Mathematics Subject Classification rubric (PAPER.md 1.4).

The paper asked an LLM to file every question under one of 61 two-digit MSC
codes (the list ships with s1x: ``s1x/selection/resources/msc.json``). Any engine can do
it here: :func:`classify_domains` takes a ``complete(prompts, temperature,
seed) -> texts`` callable, asks once greedily, re-asks the questions whose
reply names no valid code with sampling, and appends every parsed answer to a
JSONL file, so an interrupted or repeated run never asks twice.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

UNKNOWN = "unknown"  # the domain of a question no attempt could classify

Complete = Callable[[Sequence[str], float, int], list[str]]


@lru_cache(maxsize=1)
def msc_codes() -> tuple[dict, ...]:
    """The 61 MSC entries: code, title, descriptions, prompt (rubric text)."""
    text = resources.files("s1x.selection").joinpath("resources/msc.json").read_text()
    return tuple(json.loads(text))


def classification_prompt(question: str) -> str:
    """The rubric, the question, and the instruction to answer with one code."""
    rubric = "\n\n".join(entry["prompt"] for entry in msc_codes())
    return (
        "Classify the math problem below into exactly one domain of the Mathematics Subject "
        "Classification (MSC). The domains are:\n\n"
        f"{rubric}\n\n"
        f"Problem:\n{question}\n\n"
        "Reply with the two-digit code of the best-fitting domain, e.g. `Code: 05`."
    )


_CODE_CONTEXT = re.compile(r"(?:code|msc)\s*[:=#]?\s*\**\s*(\d{1,2})\b", re.IGNORECASE)
_TWO_DIGITS = re.compile(r"(?<!\d)(?<!\d\.)(\d{2})(?!\d)(?!\.\d)")  # not part of 2024 or 3.14


def parse_code(reply: str) -> str | None:
    """The MSC code a reply names, or None.

    Preference order: the last ``Code: NN`` / ``MSC NN`` mention (a model that
    reasons first states its verdict last); then the last bare two-digit number
    that is a valid code; then the last full domain title mentioned. Numbers
    that are not valid codes (``99``, ``2024``, ``3.14``) are ignored.
    """
    valid = {e["code"] for e in msc_codes()}
    for m in reversed(list(_CODE_CONTEXT.finditer(reply))):
        code = m.group(1).zfill(2)
        if code in valid:
            return code
    for m in reversed(list(_TWO_DIGITS.finditer(reply))):
        if m.group(1) in valid:
            return m.group(1)
    low = reply.lower()
    best, best_pos = None, -1
    for e in msc_codes():
        pos = low.rfind(e["title"].lower())
        if pos > best_pos or (pos == best_pos and pos >= 0 and len(e["title"]) > len(best["title"])):
            best, best_pos = e, pos
    return best["code"] if best_pos >= 0 else None


def _read_answers(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    answers = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill: ask that question again
            continue
        answers[row["id"]] = row["code"]
    return answers


def classify_domains(
    questions: dict[str, str],
    complete: Complete,
    retries: int = 2,
    retry_temperature: float = 0.7,
    seed: int = 0,
    answers_path: Path | None = None,
    batch_size: int = 256,
) -> dict[str, str]:
    """MSC code of every question (``{id: question}``); :data:`UNKNOWN` where no attempt parsed.

    Attempt 0 is greedy; attempts 1..``retries`` sample at ``retry_temperature``
    with seed ``seed + attempt``. Answers already in ``answers_path`` are reused
    and new ones are appended batch by batch.
    """
    done = _read_answers(answers_path)
    out = {qid: done[qid] for qid in questions if qid in done}
    todo = [qid for qid in questions if qid not in out]
    sink = open(answers_path, "a") if answers_path is not None else None
    try:
        for attempt in range(retries + 1):
            if not todo:
                break
            temperature = 0.0 if attempt == 0 else retry_temperature
            failed = []
            for start in range(0, len(todo), batch_size):
                ids = todo[start : start + batch_size]
                replies = complete([classification_prompt(questions[i]) for i in ids], temperature, seed + attempt)
                for qid, reply in zip(ids, replies):
                    code = parse_code(reply)
                    if code is None:
                        failed.append(qid)
                        continue
                    out[qid] = code
                    if sink is not None:
                        sink.write(json.dumps({"id": qid, "code": code, "attempt": attempt, "reply": reply[-500:]}) + "\n")
                if sink is not None:
                    sink.flush()
            todo = failed
    finally:
        if sink is not None:
            sink.close()
    for qid in todo:
        out[qid] = UNKNOWN
    return out
