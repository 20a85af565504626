"""Answer extraction and grading. Public API: ``from s1x.grading import grade``.

``grade(prediction, gold, kind)`` takes the model's answer text (or the whole
response), extracts the final answer and compares it with ``gold``:

- ``math``: math-verify equivalence of the gold answer and the extracted one
  (``\\frac{1}{2}`` == ``0.5``, ``(3, \\frac{\\pi}{2})`` == ``\\left( 3, \\frac{\\pi}{2} \\right)``),
  falling back to normalised string equality where math-verify parses nothing;
- ``integer``: equal as integers ("025" == "25", AIME), falling back to ``math``;
- ``choice``: the option letter, from ``B``, ``(B)``, ``B) ...``, ``\\boxed{B}``
  or ``**B**``, never from a letter inside an expression (``\\Delta E``);
- ``exact``: equal after trimming whitespace and a trailing period (the tiny world).

The final answer is the text after the last ``Answer:`` / ``Final Answer:``,
and inside it (or, without such a prefix, in the whole text) the last
``\\boxed{...}``. Model text is only ever matched with bounded regular
expressions and parsed by math-verify's grammar, never executed or evaluated;
inputs are cut to :data:`MAX_ANSWER_CHARS`. A pathological input can still
make sympy slow: :func:`grade_many` grades in worker processes and kills any
that overruns its time limit (that answer is graded wrong, ``timed_out``).
"""

from __future__ import annotations

import multiprocessing as mp
import re
import time
from dataclasses import dataclass
from typing import Sequence

KINDS = ("exact", "integer", "choice", "math")
_ANSWER_RE = re.compile(r"(?:Final Answer|Answer)\s*:", re.IGNORECASE)
_CHOICE_RES = (
    re.compile(r"^\**\s*\(?([A-D])\)?\**(?:$|[\s.,:;)])"),  # B / (B) / B) text / **B**
    re.compile(r"\\boxed\{\s*\(?([A-D])\)?\s*\}"),  # \boxed{B}
    re.compile(r"(?:^|[\s(])(?:option|choice|answer is)\s*\(?([A-D])\)?(?:$|[\s.,:;)])", re.IGNORECASE),
)
MAX_ANSWER_CHARS = 10_000  # longer answers are cut before matching: graded, never slow to match
MATH_TIMEOUT_S = 3  # math-verify's own limit per parse/verify (inside a worker: the hard limit is grade_many's)


@dataclass(frozen=True)
class Grade:
    correct: bool
    extracted: str  # the answer as extracted from the prediction
    timed_out: bool = False


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None if there is none."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth, j = 1, i
    while j < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
    return text[i : j - 1] if depth == 0 else text[i:]


def extract_answer(text: str) -> str:
    """The final answer: after the last ``Answer:`` (or ``Final Answer:``), its last ``\\boxed{}`` if any."""
    text = text[-MAX_ANSWER_CHARS:].replace("<|im_end|>", "")
    matches = list(_ANSWER_RE.finditer(text))
    tail = text[matches[-1].end() :] if matches else text
    boxed = last_boxed(tail)
    if boxed is not None:
        tail = boxed
    return tail.strip().rstrip(".").strip()


def _as_int(s: str) -> int | None:
    s = s.replace(",", "").replace("$", "").strip()
    return int(s) if re.fullmatch(r"[+-]?\d{1,100}", s) else None


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s.replace("$", "").replace("\\!", "").replace("\\,", "")).rstrip(".").lower()


def _math_equal(answer: str, gold: str) -> bool:
    from math_verify import parse, verify

    wrap = lambda s: s if "$" in s or "\\boxed" in s else f"${s}$"  # noqa: E731 - math-verify reads LaTeX in $...$
    gold_parsed = parse(wrap(gold), parsing_timeout=MATH_TIMEOUT_S)
    answer_parsed = parse(wrap(answer), parsing_timeout=MATH_TIMEOUT_S)
    if gold_parsed and answer_parsed:
        if verify(gold_parsed, answer_parsed, timeout_seconds=MATH_TIMEOUT_S):
            return True
    return _norm(answer) == _norm(gold) and bool(_norm(gold))


def grade(prediction: str, gold: str, kind: str) -> Grade:
    """Grade ``prediction`` against ``gold`` with the grader ``kind`` (math, integer, choice, exact)."""
    if kind not in KINDS:
        raise ValueError(f"grader kind {kind!r} is not one of: {', '.join(KINDS)}")
    answer = extract_answer(prediction)
    gold = str(gold).strip()[:MAX_ANSWER_CHARS]
    if kind == "choice":
        letter = ""
        for pattern in _CHOICE_RES:
            m = pattern.search(answer) if pattern is not _CHOICE_RES[0] else pattern.match(answer)
            if m:
                letter = m.group(1)
                break
        return Grade(letter == gold.strip("()").upper(), letter)
    if kind == "integer":
        a, g = _as_int(answer), _as_int(gold)
        if a is not None and g is not None:
            return Grade(a == g, answer)
        return Grade(_math_equal(answer, gold), answer)
    if kind == "math":
        return Grade(_math_equal(answer, gold), answer)
    return Grade(answer == gold.rstrip(".").strip(), answer)


# --- grading many answers in worker processes, with hard time limits --------------------


def _worker(conn) -> None:
    """Grade the tasks sent over ``conn`` one by one; each worker has its own pipe, so killing
    one mid-write can only break the pipe that is thrown away with it."""
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        i, prediction, gold, kind = item
        try:
            g = grade(prediction, gold, kind)
        except Exception:  # a parser error on hostile text grades as wrong, never crashes the run
            g = Grade(False, extract_answer(prediction))
        conn.send((i, g))


def grade_many(predictions: Sequence[str], golds: Sequence[str], kinds: Sequence[str] | str,
               workers: int | None = None, timeout_s: float = 5.0) -> list[Grade]:
    """Grade every (prediction, gold) pair in ``workers`` processes; an answer whose grading
    takes longer than ``timeout_s`` is graded wrong with ``timed_out=True`` and its worker replaced.

    ``workers=None`` picks: 2 processes when a math or integer answer is among them (sympy can
    be slow on hostile text), none for exact and choice (bounded regexes). ``workers=0`` grades
    in this process (no hard limit; for debugging).
    """
    from multiprocessing.connection import wait

    n = len(predictions)
    kinds = [kinds] * n if isinstance(kinds, str) else list(kinds)
    if not (len(golds) == len(kinds) == n):
        raise ValueError(f"grade_many: {n} predictions, {len(golds)} golds, {len(kinds)} kinds")
    for k in set(kinds):
        if k not in KINDS:
            raise ValueError(f"grader kind {k!r} is not one of: {', '.join(KINDS)}")
    if workers is None:
        workers = 2 if {"math", "integer"} & set(kinds) else 0
    if workers <= 0 or n == 0:
        return [grade(p, g, k) for p, g, k in zip(predictions, golds, kinds)]
    if "math" in kinds or "integer" in kinds:
        import math_verify  # noqa: F401 - imported once here, inherited by forked workers

    ctx = mp.get_context("fork")
    out: list[Grade | None] = [None] * n
    pending = list(range(n))[::-1]

    def start() -> dict:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        proc.start()
        child.close()
        return {"proc": proc, "conn": parent, "task": None, "since": 0.0}

    def feed(w: dict) -> None:
        w["task"] = pending.pop() if pending else None
        if w["task"] is not None:
            i = w["task"]
            w["since"] = time.monotonic()
            w["conn"].send((i, predictions[i], golds[i], kinds[i]))

    def stop(w: dict, kill: bool) -> None:
        if kill:
            w["proc"].kill()
        else:
            try:
                w["conn"].send(None)
            except (BrokenPipeError, OSError):
                pass
        w["proc"].join(timeout=1)
        if w["proc"].is_alive():
            w["proc"].kill()
            w["proc"].join()
        w["conn"].close()

    pool = [start() for _ in range(min(workers, n))]
    for w in pool:
        feed(w)
    try:
        while any(w["task"] is not None for w in pool):
            busy = {w["conn"]: w for w in pool if w["task"] is not None}
            for conn in wait(list(busy), timeout=0.05):
                w = busy[conn]
                try:
                    i, g = conn.recv()
                except (EOFError, OSError):  # the worker died (not a timeout): its answer is graded wrong
                    i, g = w["task"], Grade(False, extract_answer(predictions[w["task"]])[:200])
                    stop(w, kill=True)
                    pool[pool.index(w)] = w = start()
                out[i] = g
                feed(w)
            now = time.monotonic()
            for k, w in enumerate(pool):
                if w["task"] is not None and now - w["since"] > timeout_s:
                    i = w["task"]
                    stop(w, kill=True)
                    out[i] = Grade(False, extract_answer(predictions[i])[:200], timed_out=True)
                    pool[k] = start()
                    feed(pool[k])
    finally:
        for w in pool:
            stop(w, kill=False)
    return out  # type: ignore[return-value]
