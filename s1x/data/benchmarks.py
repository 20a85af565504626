"""Loading benchmarks into s1x records (config group ``benchmark``).

The tiny world generates its benchmarks; real ones load by hub id or from a
local file in the same public schema, through :func:`s1x.data.rows.rows_from`.
To add a benchmark: a ``conf/benchmark/<name>.yaml`` (kind, path, grader); a
new row schema gets its mapping in :func:`_public_benchmark`.
"""

from __future__ import annotations

from s1x.records import BenchmarkQuestion, question_id
from s1x.data.rows import rows_from
from s1x.errors import InputError
from s1x.world import tasks


GPQA_INSTRUCTION = "Answer with the letter of the correct option."


def gpqa_question(row: dict, qid: str, seed: int, prompt: str = "s1x") -> tuple[str, str, dict]:
    """A GPQA row as a four-option question: (text, gold letter, meta with the order used).

    The correct answer and the three incorrect ones are shuffled with a seed
    derived from the question id and ``seed``, so the order is the same on
    every run and machine, differs between questions, and is recorded.
    ``prompt=s1x``: question and options stripped, then an instruction to answer
    with a letter; ``authors``: their template ``{Question}\n\nA) ...\nD) ...`` verbatim.
    """
    import numpy as np

    keep = (lambda x: str(x)) if prompt == "authors" else (lambda x: str(x).strip())
    options = [keep(row["Correct Answer"])] + [keep(row[f"Incorrect Answer {k}"]) for k in (1, 2, 3)]
    shuffle_seed = int(question_id(f"{seed}:{qid}"), 16) % (2**32)
    order = [int(i) for i in np.random.default_rng(shuffle_seed).permutation(4)]
    labels = "ABCD"
    lines = [f"{labels[pos]}) {options[i]}" for pos, i in enumerate(order)]
    gold = labels[order.index(0)]
    text = f"{keep(row['Question'])}\n\n" + "\n".join(lines)
    if prompt != "authors":
        text += f"\n\n{GPQA_INSTRUCTION}"
    # stem and choices as shown: what the authors' LLM letter extraction is given (choice_llm)
    return text, gold, {"choice_order": order, "shuffle_seed": shuffle_seed, "stem": keep(row["Question"]),
                        "choices": [options[i] for i in order]}


def _text(value) -> str:
    """A field as text; None and blanks as empty (so a missing answer is never the string "None")."""
    return "" if value is None else str(value).strip()


def _public_benchmark(rows: list[dict], name: str, grader: str, seed: int = 0, prompt: str = "s1x",
                      source: str = "") -> list[BenchmarkQuestion]:
    """Map MATH500/AIME (problem, answer) or GPQA (Question, Correct/Incorrect Answer 1-3) rows.

    A row without a question or a gold answer is refused (named by its number and id), before any
    generation: graded against nothing, it would silently count as wrong."""
    out = []
    where = f"benchmark {name} ({source})" if source else f"benchmark {name}"
    for i, r in enumerate(rows):
        qid = str(r.get("id", r.get("unique_id", r.get("Record ID", i))))
        meta: dict = {}
        if "problem" in r:
            q = "" if r["problem"] is None else str(r["problem"])
            gold = "" if r.get("answer") is None else str(r["answer"])
        elif "Question" in r:
            missing = [k for k in ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
                                   "Incorrect Answer 3") if not _text(r.get(k))]
            if missing:
                raise InputError(f"{where}: row {i} (id {qid}) has no {missing[0]!r}; fix or drop the row")
            q, gold, meta = gpqa_question(r, qid, seed, prompt)
        else:
            raise InputError(f"{where}: row {i} has neither 'problem' nor 'Question' (columns {sorted(r)[:8]}); "
                             "s1x reads MATH500/AIME (problem, answer) or GPQA (Question, Correct Answer, ...) rows")
        if not q.strip():
            raise InputError(f"{where}: row {i} (id {qid}) has an empty question; fix or drop the row")
        if not gold.strip():
            raise InputError(f"{where}: row {i} (id {qid}) has no answer to grade against; fix or drop the row")
        out.append(BenchmarkQuestion(id=qid, question=q, gold=gold, grader=grader, meta=meta))
    return out


def load_benchmark(cfg) -> list[BenchmarkQuestion]:
    """The questions of one ``benchmark`` config."""
    if cfg.kind == "tiny":
        problems = tasks.generate(cfg.size, cfg.seed, choice_share=1.0 if cfg.choice else 0.0,
                                  min_items=cfg.min_items, max_items=cfg.max_items, split="test")
        return [
            BenchmarkQuestion(id=p.id, question=p.question, gold=p.answer, grader=cfg.grader,
                              meta={"domain": p.domain, "n_items": p.n_items})
            for p in problems
        ]
    if cfg.kind in ("hub", "file"):
        rows = rows_from(cfg.path, split=cfg.split, config=cfg.hub_config)
        qs = _public_benchmark(rows, cfg.name, cfg.grader, cfg.seed, cfg.prompt, cfg.path)
        return qs[: cfg.size] if cfg.size else qs
    raise InputError(f"benchmark.{cfg.name}.kind={cfg.kind!r} is not one of: tiny, hub, file")
