"""The smol-scaling setting's data: multi-step problems whose answer needs the steps.

Budget forcing can only show test-time scaling when a longer thinking budget lets
the model do more of the work an answer needs, and a 135M-parameter model can only
learn, from ~160 examples, steps it can already nearly do. So each step here is a
look-up or a one-digit sum, one numbered line of the trace, and the number of steps
is drawn per problem: difficulty, and the length of a trace's first pass, grow with
the steps (a checked trace, below, repeats its first pass). Four domains:

- ``boxes``: notes in boxes name the next box; follow the notes a given number of times;
- ``mail``: houses forward letters to other houses; where is a letter after k sends;
- ``rooms``: doors lead from room to room; where do k doors take you;
- ``tally``: a counter starts somewhere and moves up and down by one-digit steps.

The three look-up domains list their notes shuffled, with notes off the path, and
every box on the path has a note: the answer is found only by following the chain
the stated number of times (no note says "stop"). Numbers are 10-99: two digits each.

Some traces check their work as s1K's do: after the answer, "Wait, let me check." and
the steps again, then the answer again (:func:`with_recheck`). Budget forcing's
"Wait" is that same word: a model fine-tuned only on traces that never say it has
nothing to continue with after a forced "Wait" (measured: x2 lengthened thinking at
the largest budget by 19% on a fresh clone; s1K's traces are full of such checks).
Only short chains are checked (at most RECHECK_MAX_STEPS steps), each with
probability RECHECK_SHARE (127 of the pool's 293), so a checked trace is at most
~25% longer than the longest unchecked one (208 against 169 SmolLM2 tokens) and a
fine-tuned model still stops inside the largest budget (256). The selection's
preference for long traces still favours checks: s1k's 160 hold 54 checked traces
(34%), a random 160 holds 32 (20%); the pool 127 of 600 (21%).

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
# Held-out sets are the first n of CANDIDATES * n seeded draws that share no word 8-gram with the pool.
CANDIDATES = 6
DOMAINS = ("boxes", "mail", "rooms", "tally")

# Steps per problem, per domain: one trace line each, about 14-17 SmolLM2 tokens a line, so the
# traces run from ~25 to ~125 tokens (budgets 16/32/64/128 cut through them). Each line starts
# "i/k:", step i of k: a fine-tuned model stops at k by reading its own count, not by habit.
STEPS = {"boxes": (1, 8), "mail": (1, 8), "rooms": (1, 8), "tally": (1, 7)}
LOOKUPS = ("boxes", "mail", "rooms")
# Which traces check their work (module docstring): each of those with at most 4 steps with
# probability 1/2, drawn from a generator of its own so the questions (and the held-out sets drawn
# against them) do not move.
RECHECK_MAX_STEPS, RECHECK_SHARE = 4, 0.5
RECHECK_HEAD = "Wait, let me check."
# How each look-up domain words a note in the question, and a step in the trace: the trace line
# repeats the note's words, so a step is finding the note and copying its number.
NOTE = {"boxes": "box {} says {}", "mail": "house {} sends to {}", "rooms": "room {} leads to {}"}
# The ask comes first and the notes last: every word 8-gram then holds two or more drawn numbers.
ASK = {"boxes": "From box {start} follow {k} notes; which box? Notes: {notes}.",
       "mail": "A letter leaves house {start}, sent {k} times; which house? Routes: {notes}.",
       "rooms": "From room {start} walk {k} doors; which room? Doors: {notes}."}


def _lookup(r: random.Random, steps: int) -> dict:
    """A path of ``steps`` moves over distinct numbers 10-99, a note for every number on it (the
    last one's leads off the path), and 2-4 notes off the path; notes shuffled."""
    nodes = r.sample(range(10, 100), steps + 1 + 4)
    path, spare = nodes[:steps + 1], nodes[steps + 1:]
    notes = [[a, b] for a, b in zip(path, path[1:])] + [[path[-1], spare[0]]]
    for s in spare[:r.randint(2, 4)]:
        notes.append([s, r.choice([n for n in nodes if n != s])])
    r.shuffle(notes)
    return {"notes": notes, "start": path[0], "moves": steps}


def _follow(m: dict) -> list[int]:
    """The numbers visited, the start first."""
    nxt, out = dict(map(tuple, m["notes"])), [m["start"]]
    for _ in range(m["moves"]):
        out.append(nxt[out[-1]])
    return out


def _tally(r: random.Random, steps: int) -> dict:
    value = start = r.randint(10, 40)
    ops = []
    for _ in range(steps):
        d = r.choice([1, -1]) * r.randint(1, 9)
        if not 10 <= value + d <= 99:  # two-digit values throughout
            d = -d
        ops.append(d)
        value += d
    return {"start": start, "ops": ops}


def solve(domain: str, m: dict) -> int:
    """The answer of a problem from its structured form (``metadata``), computed afresh."""
    if domain in LOOKUPS:
        return _follow(m)[-1]
    if domain == "tally":
        return m["start"] + sum(m["ops"])
    raise ValueError(f"unknown domain {domain!r}")


def question_and_trace(domain: str, m: dict) -> tuple[str, str]:
    """The question text and the step-by-step thinking trace (one line a step, "i/k:" first)."""
    if domain in LOOKUPS:
        notes = ", ".join(NOTE[domain].format(a, b) for a, b in m["notes"])
        q = ASK[domain].format(notes=notes, start=m["start"], k=m["moves"])
        seen = _follow(m)
        k = m["moves"]
        lines = [f"{i}/{k}: {NOTE[domain].format(a, b)}." for i, (a, b) in enumerate(zip(seen, seen[1:]), 1)]
    elif domain == "tally":
        # Numbered steps, and the trace line copies its step before the sum: the next step is found
        # by its number, not by counting along the list.
        ops = ", ".join(f"step {i}: {d:+d}" for i, d in enumerate(m["ops"], 1))
        q = f"A counter starts at {m['start']}. {ops}. Where does it end?"
        lines, value, k = [], m["start"], len(m["ops"])
        for i, d in enumerate(m["ops"], 1):
            lines.append(f"{i}/{k}: step {i}: {d:+d}, {value} {'+' if d > 0 else '-'} {abs(d)} = {value + d}.")
            value += d
    else:
        raise ValueError(f"unknown domain {domain!r}")
    return q, "\n".join(lines + [f"So the answer is {solve(domain, m)}."])


def with_recheck(trace: str) -> str:
    """``trace`` followed by an s1K-style check: "Wait, let me check.", the steps again, the
    answer again (the same lines: the check re-derives the chain from the question)."""
    return f"{trace}\n{RECHECK_HEAD}\n{trace}"


MAKERS = {"boxes": _lookup, "mail": _lookup, "rooms": _lookup, "tally": _tally}


def problems(n: int, seed: int) -> list[dict]:
    """``n`` distinct problems, domains in turn, steps uniform over each domain's range:
    ``{question, trace, answer, domain, steps, metadata}``; some traces check their work
    (:func:`with_recheck`)."""
    r, out, seen = random.Random(seed), [], set()
    checks = random.Random(f"recheck-{seed}")
    while len(out) < n:
        domain = DOMAINS[len(out) % len(DOMAINS)]
        steps = r.randint(*STEPS[domain])
        m = MAKERS[domain](r, steps)
        q, t = question_and_trace(domain, m)
        if q in seen:
            continue
        seen.add(q)
        if steps <= RECHECK_MAX_STEPS and checks.random() < RECHECK_SHARE:
            t = with_recheck(t)
        out.append({"question": q, "trace": t, "answer": solve(domain, m), "domain": domain,
                    "steps": steps, "metadata": m})
    return out


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
    rows = [p for p in problems(CANDIDATES * n, seed) if index.match(p["question"]) is None][:n]
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
