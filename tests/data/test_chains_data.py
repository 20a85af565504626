"""The smol-scaling setting's shipped data (s1x/resources/chains.py): exactly what its generator
writes, every answer right, trace lengths spread over the budgets, held out by word 8-grams."""

import json
import re
from collections import Counter

from conftest import compose_config
from s1x.resources import chains
from s1x.selection.decontam import decontaminate

BUDGETS = (16, 32, 64, 128)


def _jsonl(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def _pool():
    return _jsonl(chains.POOL_FILE)


def _first_pass(trace: str) -> str:
    """A trace without its check (test_half_the_short_chains_check_their_work): the steps and the answer."""
    return trace.split(f"\n{chains.RECHECK_HEAD}\n")[0]


def test_the_held_out_sets_never_move():
    """The test and dev questions are fixed (every reported number is on them): a change to the pool's
    traces, or to the generator's draws, must not redraw them. The hashes of the files as shipped."""
    import hashlib

    digest = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in (chains.DEV_FILE, chains.TEST_FILE)}
    assert digest == {"chains_dev.jsonl": "65c38eb61aa27ba8fe916710c9602556184d2554d799e191f544e7bc6939ea2c",
                      "chains_test.jsonl": "1841c1953ba58f66f64b6da51b465d19e4eb4cdb10e7af2f587fd751e1c77bcc"}


def test_shipped_files_are_what_the_generator_writes():
    assert _jsonl(chains.POOL_FILE) == chains.pool_rows()
    assert _jsonl(chains.DEV_FILE) == chains.dev_rows()
    assert _jsonl(chains.TEST_FILE) == chains.benchmark_rows()


def test_sizes_schema_and_domains():
    pool, dev, test = _pool(), _jsonl(chains.DEV_FILE), _jsonl(chains.TEST_FILE)
    assert (len(pool), len(dev), len(test)) == (600, 60, 160)
    assert set(pool[0]) == {"question", "solution", "cot_type", "source_type", "domain", "metadata", "cot",
                            "thinking_trajectories", "attempt"}
    assert all(set(r) == {"problem", "answer", "id"} for r in dev + test)
    assert len({r["id"] for r in dev + test}) == len(dev) + len(test)
    # Every domain is in the pool and the test set, about equally often (domains in turn).
    assert Counter(r["domain"] for r in pool) == dict.fromkeys(chains.DOMAINS, 150)
    assert all(r["source_type"] == f"chains/{r['domain']}" for r in pool)
    assert len({r["question"].lower() for r in pool}) == len(pool)  # nothing for dedup to drop


def _left_to_right(expression: str) -> int:
    words = expression.split()
    value = int(words[0])
    for op, n in zip(words[1::2], map(int, words[2::2])):
        value = value + n if op == "+" else value - n if op == "-" else value * n
    return value


def test_every_answer_is_right():
    """Recomputed from each problem's structured form, and the trace's own steps lead to it."""
    for r in _pool():
        m = json.loads(r["metadata"])
        answer = chains.solve(m["domain"], m)
        assert str(answer) == r["solution"] and r["attempt"] == f"Answer: {answer}" and 10 <= answer <= 99, r
        full, k = r["thinking_trajectories"][0], m["steps"]
        # A checked trace is the trace, "Wait, let me check.", the same trace again; short chains only.
        trace = _first_pass(full)
        assert full == trace or (full == f"{trace}\nWait, let me check.\n{trace}" and k <= chains.RECHECK_MAX_STEPS), r
        assert trace.endswith(f"So the answer is {answer}.")
        lines = trace.splitlines()[:-1]
        # One line a step, "i/k:" first: more steps, more lines.
        assert [x.split(":")[0] for x in lines] == [f"{i}/{k}" for i in range(1, k + 1)], trace
        if m["domain"] == "tally":
            line = re.compile(r"\d+/\d+: (step \d+: [-+]\d), (\d+) ([-+]) (\d) = (\d+)\.")
            steps = [line.fullmatch(x).groups() for x in lines]
            value = m["start"]
            for (copied, a, op, d, result), delta in zip(steps, m["ops"]):
                assert copied in r["question"]  # the step is copied from the question, then summed
                assert int(a) == value and int(result) == value + delta == _left_to_right(f"{a} {op} {d}")
                value = int(result)
        else:
            # A look-up step copies a note of the question: the chain from the start, note by note.
            notes = {tuple(n) for n in m["notes"]}
            assert len({a for a, _ in notes}) == len(notes)  # one note a number: no choice to make
            at = m["start"]
            for x in lines:
                a, b = map(int, re.findall(r"\d+", x)[2:])
                assert a == at and (a, b) in notes and chains.NOTE[m["domain"]].format(a, b) in r["question"]
                at = b
            assert at == answer and "stop" not in r["question"]
    # The benchmark questions regenerate to their answers (same generator, seeded).
    made = {p["question"]: p["answer"] for seed, n in ((chains.TEST_SEED, chains.CANDIDATES * chains.TEST_SIZE),
                                                       (chains.DEV_SEED, chains.CANDIDATES * chains.DEV_SIZE))
            for p in chains.problems(n, seed)}
    for r in _jsonl(chains.DEV_FILE) + _jsonl(chains.TEST_FILE):
        assert str(made[r["problem"]]) == r["answer"], r


def test_trace_lengths_spread_over_the_budgets():
    """In SmolLM2-like tokens (digits one each: SmolLM2's BPE splits numbers): a 16-token budget
    ends nearly every trace early, 128 lets most finish, and within each domain more steps mean
    a longer first pass (a checked 4-step trace is longer than an unchecked 5-step one)."""
    pool = _pool()
    lengths = [chains.approx_tokens(r["thinking_trajectories"][0]) for r in pool]
    within = [sum(n <= b for n in lengths) / len(lengths) for b in BUDGETS]
    assert within[0] <= 0.05 and 0.05 <= within[1] <= 0.3 and 0.25 <= within[2] <= 0.6 and within[3] >= 0.8, within
    for domain in chains.DOMAINS:
        by_steps = {}
        for r in pool:
            if r["domain"] == domain:
                n = chains.approx_tokens(_first_pass(r["thinking_trajectories"][0]))
                by_steps.setdefault(json.loads(r["metadata"])["steps"], []).append(n)
        means = [sum(v) / len(v) for _, v in sorted(by_steps.items())]
        assert len(means) >= 4 and means == sorted(means), (domain, means)
    # Word counts tell the same story without any token estimate.
    words = sorted(len(r["thinking_trajectories"][0].split()) for r in pool)
    assert words[0] < 16 and words[len(words) // 2] > 25


def test_half_the_short_chains_check_their_work():
    """s1K-style checks (``Wait, let me check.``) on about half the chains of at most 4 steps, in
    every domain, none on longer ones; a checked trace is at most ~25% longer than the longest
    unchecked one (in these estimated tokens 174 against 140; 208 against 169 in SmolLM2's), so
    the largest budget (256) still leaves room to stop early."""
    pool = _pool()
    steps = [json.loads(r["metadata"])["steps"] for r in pool]
    checked = [chains.RECHECK_HEAD in r["thinking_trajectories"][0] for r in pool]
    short = [c for c, k in zip(checked, steps) if k <= chains.RECHECK_MAX_STEPS]
    assert not any(c for c, k in zip(checked, steps) if k > chains.RECHECK_MAX_STEPS)
    assert 0.4 <= sum(short) / len(short) <= 0.6, sum(short) / len(short)
    assert {r["domain"] for r, c in zip(pool, checked) if c} == set(chains.DOMAINS)
    lengths = [chains.approx_tokens(r["thinking_trajectories"][0]) for r in pool]
    longest_checked = max(n for n, c in zip(lengths, checked) if c)
    longest_plain = max(n for n, c in zip(lengths, checked) if not c)
    assert longest_checked <= 1.3 * longest_plain, (longest_checked, longest_plain)


def test_no_word_8gram_shared_between_pool_and_benchmarks():
    pool = [r["question"] for r in _pool()]
    dev, test = ([r["problem"] for r in _jsonl(f)] for f in (chains.DEV_FILE, chains.TEST_FILE))
    keep, hits = decontaminate(pool, {"chains": test, "chains-dev": dev})
    assert len(keep) == len(pool) and not hits
    keep, hits = decontaminate(dev, {"chains": test})
    assert len(keep) == len(dev) and not hits


def test_the_configs_point_at_the_shipped_files():
    from s1x.data.benchmarks import load_benchmark
    from s1x.data.rows import rows_from
    from s1x.selection.pools import s1k_schema_pool

    cfg = compose_config(["setting=smol-scaling", "benchmark=[chains,chains-dev]"])
    assert cfg.pool.path == str(chains.POOL_FILE)
    pool = s1k_schema_pool(rows_from(cfg.pool.path), cfg.pool.trace_source, cfg.pool.featurize.probes)
    assert len(pool) == 600 and {p.domain for p in pool} == set(chains.DOMAINS)
    assert all(p.features["given"] == ["domain"] for p in pool)  # the domain is taken as given
    assert len(load_benchmark(cfg.benchmark["chains"])) == 160
    assert len(load_benchmark(cfg.benchmark["chains-dev"])) == 60
