"""Grading many answers in worker processes, with hard time limits.

sympy (under math-verify) can spend minutes on one hostile answer and no
signal interrupts it mid-operation, so math and integer answers are graded in
forked worker processes that are killed at the time limit (that answer is
graded wrong with ``timed_out``) and replaced. Each worker has its own pipe, so
killing one can only break the pipe that is thrown away with it.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Sequence

from s1x.grading.graders import KINDS, Grade, extract_answer, grade


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
        i, prediction, gold, kind, options = item
        try:
            g = grade(prediction, gold, kind, **options)
        except Exception:  # a parser error on hostile text grades as wrong, never crashes the run
            g = Grade(False, extract_answer(prediction))
        conn.send((i, g))


def grade_many(predictions: Sequence[str], golds: Sequence[str], kinds: Sequence[str] | str,
               workers: int | None = None, timeout_s: float = 5.0, extraction: str = "s1x",
               unparsed_choice: str | None = None) -> list[Grade]:
    """Grade every (prediction, gold) pair in ``workers`` processes; an answer whose grading
    takes longer than ``timeout_s`` is graded wrong with ``timed_out=True`` and its worker replaced.

    ``workers=None`` picks: 2 processes when a math or integer answer is among them (sympy can
    be slow on hostile text), none for exact and choice (bounded regexes). ``workers=0`` grades
    in this process (no hard limit; for debugging). ``extraction`` and ``unparsed_choice`` go to
    :func:`~s1x.grading.graders.grade`.
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
    options = {"extraction": extraction, "unparsed_choice": unparsed_choice}
    if workers <= 0 or n == 0:
        return [grade(p, g, k, **options) for p, g, k in zip(predictions, golds, kinds)]
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
            w["conn"].send((i, predictions[i], golds[i], kinds[i], options))

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
