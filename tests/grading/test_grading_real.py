"""The graders on the real MATH500, AIME24 and AIME25 files: gold against gold, and against another row's gold."""

import json
from pathlib import Path

import pytest

from s1x.grading import grade, grade_many

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "benchmarks"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/benchmarks (real files)")


def _golds(name: str) -> list[str]:
    rows = [json.loads(line) for line in (SHARED / name).read_text().splitlines() if line.strip()]
    return [str(r["answer"]) for r in rows]


def _other_rows_gold(golds: list[str]) -> list[str]:
    """For each row the next row's gold that differs from it as text and is not an equation
    (``x=5`` against ``5`` is a correct answer, not a wrong one)."""
    out = []
    for i, g in enumerate(golds):
        j = next(k % len(golds) for k in range(i + 1, i + len(golds))
                 if golds[k % len(golds)].strip() != g.strip() and "=" not in golds[k % len(golds)])
        out.append(golds[j])
    return out


@needs_shared
@pytest.mark.parametrize("name, kind", [("math500.jsonl", "math"), ("aime24_nofigures.jsonl", "integer"),
                                        ("aime25_nofigures.jsonl", "integer")])
def test_gold_against_gold_is_all_correct_and_other_golds_all_wrong(name, kind):
    golds = _golds(name)
    assert len(golds) in (500, 30)
    same = grade_many([f"Answer: {g}" for g in golds], golds, kind, workers=2)
    assert sum(g.correct for g in same) == len(golds), [golds[i] for i, g in enumerate(same) if not g.correct]
    other = grade_many([f"Answer: {g}" for g in _other_rows_gold(golds)], golds, kind, workers=2)
    assert sum(g.correct for g in other) == 0, [(golds[i]) for i, g in enumerate(other) if g.correct]
    # The same answers written the way models write them.
    boxed = grade_many([f"so the result is $\\boxed{{{g}}}$." for g in golds], golds, kind, workers=2)
    assert sum(g.correct for g in boxed) == len(golds)


def test_aime_integers_and_math_equivalences():
    assert grade("Answer: 025", "25", "integer").correct
    assert grade("Final Answer: \\boxed{204}", "204", "integer").correct
    assert grade("Answer: \\frac{1}{2}", "0.5", "math").correct
    assert grade("Answer: \\left( 3, \\frac{\\pi}{2} \\right)", "\\left( 3, \\frac{\\pi}{2} \\right)", "math").correct
    assert not grade("Answer: \\frac{1}{3}", "0.5", "math").correct
    assert grade("Answer: \\text{(C)}", "\\text{(C)}", "math").correct


def test_gpqa_rows_become_shuffled_four_option_questions_with_a_recorded_order(monkeypatch):
    import datasets

    from s1x.data.benchmarks import GPQA_INSTRUCTION, load_benchmark
    from conftest import compose_config

    rows = [{"Record ID": f"rec{i}", "Question": f"Which particle is {i}?", "Correct Answer": f"right {i}",
             "Incorrect Answer 1": f"wrong a{i}", "Incorrect Answer 2": f"wrong b{i}", "Incorrect Answer 3": f"wrong c{i}"}
            for i in range(40)]
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_list(rows))
    cfg = compose_config(["setting=paper"]).benchmark.gpqa_diamond
    qs = load_benchmark(cfg)
    assert [q.question for q in qs] == [q.question for q in load_benchmark(cfg)]  # deterministic
    golds = [q.gold for q in qs]
    assert set(golds) == set("ABCD")  # the right answer moves between questions
    for q, r in zip(qs, rows):
        # The paper's prompt is the authors' template verbatim: no instruction added.
        options = "\n".join(f"{'ABCD'[pos]}) " + [r["Correct Answer"], *(r[f"Incorrect Answer {k}"] for k in (1, 2, 3))][i]
                            for pos, i in enumerate(q.meta["choice_order"]))
        assert q.id == r["Record ID"] and q.question == f"{r['Question']}\n\n{options}"
        assert f"{q.gold}) {r['Correct Answer']}" in q.question
        assert sorted(q.meta["choice_order"]) == [0, 1, 2, 3] and "shuffle_seed" in q.meta
        assert grade(f"Answer: {q.gold}", q.gold, "choice").correct
    # Another seed, another order.
    cfg.seed = 1
    assert [q.gold for q in load_benchmark(cfg)] != golds
    # s1x's own prompt (the tiny/default setting) asks for a letter.
    tiny = load_benchmark(compose_config(["benchmark=[gpqa_diamond]"]).benchmark.gpqa_diamond)
    assert all(q.question.endswith(GPQA_INSTRUCTION) for q in tiny) and [q.gold for q in tiny] == golds


def test_gated_dataset_error_says_what_to_do(monkeypatch):
    import datasets

    from s1x.data.rows import rows_from
    from s1x.errors import InputError

    def gated(*a, **k):
        raise RuntimeError("Dataset 'Idavidrein/gpqa' is a gated dataset on the Hub. You must be authenticated")

    monkeypatch.setattr(datasets, "load_dataset", gated)
    with pytest.raises(InputError, match="huggingface-cli login"):  # one line at the CLI, exit 2
        rows_from("Idavidrein/gpqa", split="train", config="gpqa_diamond")
