"""The tiny world's generators: exact answers, determinism, held-out splits."""

import re

from s1x.world import tasks


def _solve(question: str) -> str:
    """An independent solver written from the question text alone."""
    choices = None
    if question.startswith("choices "):
        options, question = question[len("choices "):].split(": ", 1)
        choices = {m.group(2): m.group(1) for m in (re.match(r"(\w+)\((\w)\)", w) for w in options.split())}
    words = question.split()
    head = words[0]
    if head == "count":
        target, digits = int(words[1]), [int(w[1]) for w in words[3:]]
        value = str(sum(d == target for d in digits))
    else:
        digits = [int(w[1]) for w in words[1:]]
        value = {
            "sum": str(sum(digits)),
            "parity": "odd" if sum(digits) % 2 else "even",
            "mod7": str(sum(digits) % 7),
            "max": str(max(digits)),
        }[head]
    if choices is None:
        return value
    return next(label for label, v in choices.items() if v == value)


def test_answers_match_an_independent_solver():
    problems = tasks.generate(2000, seed=11, choice_share=0.3)
    assert {p.domain for p in problems} == set(tasks.DOMAINS)
    assert sum(p.choice for p in problems) > 400
    for p in problems:
        assert _solve(p.question) == p.answer, p
        # The trace's last line carries the final state (or the chosen label).
        assert p.trace.splitlines()[-1].endswith(p.answer if not p.choice else f"({p.answer})")
        assert len(p.trace.splitlines()) == p.n_items + p.choice


def test_generation_is_deterministic_and_seed_dependent():
    a = [p.question for p in tasks.generate(300, seed=5)]
    assert a == [p.question for p in tasks.generate(300, seed=5)]
    assert a != [p.question for p in tasks.generate(300, seed=6)]
    assert len(set(a)) == 300


def test_train_and_test_splits_are_disjoint():
    train = {p.question for p in tasks.generate(5000, seed=1, split="train")}
    test = {p.question for p in tasks.generate(500, seed=1, split="test")}
    assert not train & test
    assert all(tasks.in_test_split(q) for q in test)
    assert not any(tasks.in_test_split(q) for q in train)
