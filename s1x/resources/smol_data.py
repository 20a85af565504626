"""The smol setting's data: short arithmetic word problems in plain English with step-by-step traces.

A real chat model (SmolLM2-135M-Instruct) needs real text, and the setting must
run with nothing but the repository: this generator wrote ``smol_pool.jsonl``
(the s1K column schema: question, solution, cot_type, source_type, metadata,
thinking_trajectories, attempt) and ``smol_arith.jsonl`` (the MATH500 schema:
problem, answer, id), shipped beside it. ``tests/world/test_smol_data.py`` checks that the
files are exactly what this code writes, so they cannot drift.

Every fixed stretch of a template is shorter than eight words, so word 8-gram
decontamination between pool and benchmark only fires on a real repeat.

    python -m s1x.resources.smol_data   # rewrite both files
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
POOL_FILE, BENCHMARK_FILE = HERE / "smol_pool.jsonl", HERE / "smol_arith.jsonl"
NAMES = ["Mia", "Leo", "Ava", "Sam", "Nora", "Omar", "Ivy", "Ben", "Zoe", "Raj", "Lily", "Tom"]
ITEMS = ["apples", "marbles", "stickers", "books", "coins", "shells", "cards", "pencils"]


def _buy_and_give(r: random.Random) -> tuple[str, str, int]:
    name, item = r.choice(NAMES), r.choice(ITEMS)
    a, b = r.randint(5, 60), r.randint(2, 40)
    c = r.randint(1, a + b - 1)
    s, out = a + b, a + b - c
    q = f"{name} has {a} {item}. {name} gets {b} more, then gives {c} away. How many {item} are left?"
    t = f"{name} starts with {a} {item}.\nAfter getting {b} more: {a} + {b} = {s}.\nAfter giving {c} away: {s} - {c} = {out}."
    return q, t, out


def _groups(r: random.Random) -> tuple[str, str, int]:
    item = r.choice(ITEMS)
    a, b = r.randint(2, 12), r.randint(2, 15)
    q = f"One box holds {a} {item}. How many {item} fit in {b} boxes?"
    t = f"Each box holds {a} {item}.\n{b} boxes hold {b} x {a} = {a * b} {item}."
    return q, t, a * b


def _share(r: random.Random) -> tuple[str, str, int]:
    item, each, kids = r.choice(ITEMS), r.randint(2, 12), r.randint(2, 9)
    total = each * kids
    q = f"{total} {item} are shared equally among {kids} friends. How many does each friend get?"
    t = f"There are {total} {item} and {kids} friends.\nEach friend gets {total} / {kids} = {each}."
    return q, t, each


def _days(r: random.Random) -> tuple[str, str, int]:
    name, per, days, extra = r.choice(NAMES), r.randint(3, 25), r.randint(2, 7), r.randint(1, 30)
    q = f"{name} reads {per} pages a day for {days} days, then {extra} pages more. How many pages in all?"
    t = (f"Pages in {days} days: {days} x {per} = {days * per}.\n"
         f"Adding the {extra} extra pages: {days * per} + {extra} = {days * per + extra}.")
    return q, t, days * per + extra


def _order_of_operations(r: random.Random) -> tuple[str, str, int]:
    a, b, c = r.randint(1, 50), r.randint(2, 12), r.randint(2, 12)
    q = f"What is {a} + {b} x {c}?"
    t = f"Multiplication comes first: {b} x {c} = {b * c}.\nThen {a} + {b * c} = {a + b * c}."
    return q, t, a + b * c


def _difference(r: random.Random) -> tuple[str, str, int]:
    n1, n2 = r.sample(NAMES, 2)
    item, a, b = r.choice(ITEMS), r.randint(20, 90), r.randint(2, 19)
    q = f"{n1} has {a} {item}. {n2} has {b} fewer. How many {item} do they have together?"
    t = (f"{n2} has {a} - {b} = {a - b} {item}.\n"
         f"Together: {a} + {a - b} = {2 * a - b}.")
    return q, t, 2 * a - b


TEMPLATES = [_buy_and_give, _groups, _share, _days, _order_of_operations, _difference]


def problems(n: int, seed: int) -> list[tuple[str, str, int, str]]:
    """``n`` distinct problems (question, trace, answer, template name), templates in turn."""
    r, out, seen = random.Random(seed), [], set()
    while len(out) < n:
        make = TEMPLATES[len(out) % len(TEMPLATES)]
        q, t, a = make(r)
        if q not in seen:
            seen.add(q)
            out.append((q, t, a, make.__name__.strip("_")))
    return out


def pool_rows(n: int = 96, seed: int = 11) -> list[dict]:
    """Pool rows in the s1K column schema."""
    return [{"question": q, "solution": str(a), "cot_type": "math", "source_type": f"smol/{kind}",
             "metadata": json.dumps({"template": kind}), "cot": None,
             "thinking_trajectories": [t + f"\nSo the answer is {a}."], "attempt": f"Answer: {a}"}
            for q, t, a, kind in problems(n, seed)]


def benchmark_rows(n: int = 24, seed: int = 12) -> list[dict]:
    """Held-out questions in the MATH500 schema (those that also occur in the pool are skipped)."""
    in_pool = {q for q, _, _, _ in problems(96, 11)}
    rows = [(q, a) for q, _, a, _ in problems(2 * n, seed) if q not in in_pool][:n]
    return [{"id": f"smol-{i}", "problem": q, "answer": str(a)} for i, (q, a) in enumerate(rows)]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


if __name__ == "__main__":
    write_jsonl(POOL_FILE, pool_rows())
    write_jsonl(BENCHMARK_FILE, benchmark_rows())
    print(POOL_FILE, BENCHMARK_FILE)
