"""The smol-scaling setting's data: multi-step problems whose answer needs the steps.

Budget forcing can only show test-time scaling when a longer thinking budget lets
the model do more of the work an answer needs. These problems are chains of small
steps (one line of the trace each) in four domains, with a number of steps drawn
per problem, so trace length, and difficulty, grow with the steps:

- ``running_sum``: start with a number, then add, subtract and double in turn;
- ``unit_chain``: convert an amount through a chain of made-up units;
- ``search``: countdown-style trial: the first multiple of one number above a
  start that is also a multiple of another, tried candidate by candidate;
- ``shopping``: a word problem: buy several things, pay, count what is left.

This generator (fixed seeds) wrote ``chains_pool.jsonl`` (the s1K column schema:
question, solution, cot_type, source_type, metadata, thinking_trajectories,
attempt, plus ``domain``, a feature column the select stage takes as given),
``chains_dev.jsonl`` (:func:`dev_rows`) and ``chains_test.jsonl`` (:func:`benchmark_rows`; the MATH500 schema: problem,
answer, id), shipped beside it. ``metadata`` holds each problem's structured
form, from which :func:`solve` recomputes the answer.
``tests/data/test_chains_data.py`` checks that the files are exactly what this
code writes, that every answer is right, and that no word 8-gram is shared
between the pool and the benchmarks: every fixed stretch of a template is
shorter than eight words, and a benchmark question that still shares one with
the pool (numbers can line up) is skipped.

    python -m s1x.resources.chains   # rewrite the three files
"""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path

from s1x.records import write_jsonl

HERE = Path(__file__).resolve().parent
POOL_FILE, DEV_FILE, TEST_FILE = HERE / "chains_pool.jsonl", HERE / "chains_dev.jsonl", HERE / "chains_test.jsonl"
POOL_SIZE, DEV_SIZE, TEST_SIZE = 600, 60, 160
POOL_SEED, DEV_SEED, TEST_SEED = 24, 25, 26
DOMAINS = ("running_sum", "unit_chain", "search", "shopping")

NAMES = ["Mia", "Leo", "Ava", "Sam", "Nora", "Omar", "Ivy", "Ben", "Zoe", "Raj", "Lily", "Tom", "Ada", "Eli", "Kai",
         "Una", "Max", "Rosa", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kim", "Luz", "Milo", "Nia", "Otto", "Pia", "Rex"]
GOODS = ["pens", "books", "cups", "hats", "kites", "bags", "socks", "plates", "lamps", "maps", "shirts", "bowls",
         "combs", "drums", "flags", "gloves", "jars", "keys", "mugs", "nets", "pots", "rings", "ropes", "spoons",
         "tents", "toys", "vases", "whistles", "boxes", "candles"]
# Made-up unit names (consonant-vowel-consonant-vowel-consonant): thousands of them, so two
# problems almost never share a run of words, and no model knows the rates beforehand.
_C, _V = "bdfgklmnprstvz", "aeiou"

# Steps per problem, per domain: one trace line each, about 8-12 SmolLM2 tokens a line, so the
# traces run from ~17 to ~165 tokens (budgets 16/32/64/128 cut through them).
STEPS = {"running_sum": (1, 12), "unit_chain": (1, 9), "search": (1, 8), "shopping": (1, 6)}


def _running_sum(r: random.Random, steps: int) -> dict:
    ops = []
    value = r.randint(2, 30)
    start = value
    for _ in range(steps):
        op = r.choice(["add", "sub", "double"] if value < 200 else ["add", "sub", "sub"])
        if op == "double" and ops and ops[-1][0] == "double":  # "then double it" twice is a long fixed stretch
            op = "add"
        if op == "sub" and value < 2:
            op = "add"
        arg = 2 if op == "double" else r.randint(1, min(60, value - 1) if op == "sub" else 60)
        ops.append([op, arg])
        value = _apply(value, op, arg)
    return {"start": start, "ops": ops}


def _apply(value: int, op: str, arg: int) -> int:
    return value + arg if op == "add" else value - arg if op == "sub" else value * arg


def _unit_chain(r: random.Random, steps: int) -> dict:
    units = []
    while len(units) < steps + 1:
        u = "".join(r.choice(_C if i % 2 == 0 else _V) for i in range(5))
        if u not in units:
            units.append(u)
    rates = [r.randint(2, 4) if i < 4 else r.choice([2, 2, 3]) for i in range(steps)]
    while _prod(rates) > 4000:  # keep the numbers short
        rates[rates.index(max(rates))] -= 1
    return {"amount": r.randint(2, 5), "units": units, "rates": rates}


def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def _search(r: random.Random, steps: int) -> dict:
    """The answer is the ``steps``-th multiple of ``a`` above ``start`` (a step fewer, now and
    then, where draws rarely reach that many tries; ``metadata`` records the real count)."""
    while True:
        a, b = r.randint(2, 19), r.randint(2, 13)
        if a == b:
            continue
        start = r.randint(10, 300)
        if len(_search_tries(start, a, b)) == steps:
            return {"start": start, "a": a, "b": b}
        if r.random() < 0.02:  # rarely reachable counts: draw a fresh pair sooner
            steps = max(1, steps - 1)


def _search_tries(start: int, a: int, b: int) -> list[int]:
    """The multiples of ``a`` above ``start`` tried in turn, up to the first that ``b`` divides."""
    x, out = (start // a + 1) * a, []
    while True:
        out.append(x)
        if x % b == 0:
            return out
        x += a


def _shopping(r: random.Random, steps: int) -> dict:
    goods = r.sample(GOODS, steps)
    buys = [[g, r.randint(2, 9), r.randint(2, 19)] for g in goods]
    cost = sum(k * p for _, k, p in buys)
    return {"name": r.choice(NAMES), "money": cost + r.randint(1, 99), "buys": buys}


MAKERS = {"running_sum": _running_sum, "unit_chain": _unit_chain, "search": _search, "shopping": _shopping}
_OP_WORDS = {"add": "add {}", "sub": "take away {}", "double": "double it"}
# Questions keep every fixed stretch short and a number or name in every few words: a word
# 8-gram of one question then almost never recurs in another.


def solve(domain: str, m: dict) -> int:
    """The answer of a problem from its structured form (``metadata``), computed afresh."""
    if domain == "running_sum":
        value = m["start"]
        for op, arg in m["ops"]:
            value = _apply(value, op, arg)
        return value
    if domain == "unit_chain":
        return m["amount"] * _prod(m["rates"])
    if domain == "search":
        return _search_tries(m["start"], m["a"], m["b"])[-1]
    if domain == "shopping":
        return m["money"] - sum(k * p for _, k, p in m["buys"])
    raise ValueError(f"unknown domain {domain!r}")


def question_and_trace(domain: str, m: dict) -> tuple[str, str]:
    """The question text and the step-by-step thinking trace (one step a line)."""
    if domain == "running_sum":
        steps = ", ".join(_OP_WORDS[op].format(arg) for op, arg in m["ops"])
        q = f"Start with {m['start']}, {steps}. Final number?"
        lines, value = [f"Start: {m['start']}."], m["start"]
        for op, arg in m["ops"]:
            new = _apply(value, op, arg)
            sym = {"add": f"+ {arg}", "sub": f"- {arg}", "double": "x 2"}[op]
            lines.append(f"{value} {sym} = {new}.")
            value = new
    elif domain == "unit_chain":
        u, rates = m["units"], m["rates"]
        facts = ". ".join(f"One {u[i]} is {rates[i]} {u[i + 1]}s" for i in range(len(rates)))
        q = f"{facts}. How many {u[-1]}s are {m['amount']} {u[0]}s?"
        lines, value = [], m["amount"]
        for i, rate in enumerate(rates):
            lines.append(f"{value} {u[i]}s = {value} x {rate} = {value * rate} {u[i + 1]}s.")
            value *= rate
    elif domain == "search":
        a, b = m["a"], m["b"]
        q = f"Multiples of {a} above {m['start']}: first one {b} divides?"
        lines = [f"Multiples of {a} above {m['start']}:"]
        for x in _search_tries(m["start"], a, b):
            rest = x % b
            lines.append(f"{x}: {x} / {b} leaves {rest}, no." if rest else f"{x}: {x} / {b} = {x // b}, yes.")
    else:
        name, buys = m["name"], m["buys"]
        items = ", ".join(f"{k} {g} at {p} each" for g, k, p in buys)
        q = f"{name} has {m['money']} coins. {name} buys {items}. Coins left?"
        lines, spent = [], 0
        for g, k, p in buys:
            lines.append(f"{g.capitalize()}: {k} x {p} = {k * p}.")
            spent += k * p
        if len(buys) > 1:
            lines.append("Spent: " + " + ".join(str(k * p) for _, k, p in buys) + f" = {spent}.")
        lines.append(f"Left: {m['money']} - {spent} = {m['money'] - spent}.")
    return q, "\n".join(lines + [f"So the answer is {solve(domain, m)}."])


def problems(n: int, seed: int) -> list[dict]:
    """``n`` distinct problems, domains in turn, steps uniform over each domain's range:
    ``{question, trace, answer, domain, steps, metadata}``."""
    r, out, seen = random.Random(seed), [], set()
    while len(out) < n:
        domain = DOMAINS[len(out) % len(DOMAINS)]
        steps = r.randint(*STEPS[domain])
        m = MAKERS[domain](r, steps)
        q, t = question_and_trace(domain, m)
        if q in seen:
            continue
        seen.add(q)
        out.append({"question": q, "trace": t, "answer": solve(domain, m), "domain": domain,
                    "steps": _steps(domain, m), "metadata": m})
    return out


def _steps(domain: str, m: dict) -> int:
    return {"running_sum": lambda: len(m["ops"]), "unit_chain": lambda: len(m["rates"]),
            "search": lambda: len(_search_tries(m["start"], m["a"], m["b"])),
            "shopping": lambda: len(m["buys"])}[domain]()


_TOKEN = re.compile(r"\d|[A-Za-z]+|\n|[^\sA-Za-z\d]")


def approx_tokens(text: str) -> int:
    """A SmolLM2-like token count without its tokenizer: one per digit (its BPE splits
    numbers into digits), word, newline and punctuation mark."""
    return len(_TOKEN.findall(text))


@functools.cache
def pool_rows() -> list[dict]:
    """Pool rows in the s1K column schema, with a ``domain`` column (made once: the held-out
    sets are drawn against it)."""
    return [{"question": p["question"], "solution": str(p["answer"]), "cot_type": "math",
             "source_type": f"chains/{p['domain']}", "domain": p["domain"], "cot": None,
             "metadata": json.dumps({"domain": p["domain"], "steps": p["steps"], **p["metadata"]}, sort_keys=True),
             "thinking_trajectories": [p["trace"]], "attempt": f"Answer: {p['answer']}"}
            for p in problems(POOL_SIZE, POOL_SEED)]


def _held_out(n: int, seed: int, prefix: str, avoid: list[str]) -> list[dict]:
    """``n`` benchmark rows (MATH500 schema) sharing no word 8-gram with any ``avoid`` question."""
    from s1x.selection.decontam import ContaminationIndex

    index = ContaminationIndex(8)
    index.add("avoid", avoid)
    rows = [p for p in problems(3 * n, seed) if index.match(p["question"]) is None][:n]
    if len(rows) < n:
        raise RuntimeError(f"only {len(rows)} held-out questions for {prefix}; draw more candidates")
    return [{"id": f"{prefix}-{i}", "problem": p["question"], "answer": str(p["answer"])} for i, p in enumerate(rows)]


def dev_rows() -> list[dict]:
    """Questions for tuning (never tune on the test set), disjoint from the pool."""
    return _held_out(DEV_SIZE, DEV_SEED, "chains-dev", [r["question"] for r in pool_rows()])


def benchmark_rows() -> list[dict]:
    """The held-out benchmark, disjoint from the pool and from the dev questions."""
    avoid = [r["question"] for r in pool_rows()] + [r["problem"] for r in dev_rows()]
    return _held_out(TEST_SIZE, TEST_SEED, "chains", avoid)


if __name__ == "__main__":
    write_jsonl(POOL_FILE, pool_rows())
    write_jsonl(DEV_FILE, dev_rows())
    write_jsonl(TEST_FILE, benchmark_rows())
    print(POOL_FILE, DEV_FILE, TEST_FILE)
