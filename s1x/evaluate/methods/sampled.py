"""The sampled method kinds: rejection sampling (``rs``) and majority vote (``majority``, maj@k),
with their drivers under s1x's controllers and their hooks into the authors' protocol.
"""

from __future__ import annotations

from pathlib import Path

from s1x.errors import require
from s1x.evaluate.generation import generate_forced, question_prompts, thinking_room
from s1x.evaluate.methods.kinds import MethodKind, MethodRun, register_method_kind
from s1x.evaluate.controllers.forcing import ForcedSample
from s1x.evaluate.methods.cell import Cell
from s1x.evaluate.sample_records import Grading, grade_samples, summarize
from s1x.evaluate.votes import maj_score, rule_equal, vote_keys
from s1x.records import write_jsonl


def run_rejection_sampling(engine, tokenizer, questions, prompts_text, prompts, tokens, method, cells: list[Cell],
                           room: int, controller: str, seed: int, grading: Grading = Grading()) -> dict[str, list[dict]]:
    """rs: sample (temperature ``method.temperature``) until thinking fits each budget.

    One pool of samples per question serves every budget: wave w draws one more
    sample for each question that still misses some budget, and a budget takes the
    first sample within it (``tries`` = its wave). Samples are capped one token
    above the largest budget still missing (beyond it they are rejected anyway).
    After ``max_tries`` waves a budget still missing gets a budget-forced sample
    cut at the budget (``rs_fallback``), so every sample respects its budget. ``max_tries``
    ``auto`` is 8 waves here (null: no limit)."""
    max_tries = 8 if method.max_tries == "auto" else method.max_tries
    need = {q: {c.budget_tokens for c in cells} for q in range(len(questions))}
    accepted: dict[tuple[int, int], tuple[ForcedSample, int, bool]] = {}
    wave = 0
    while max_tries is None or wave < max_tries:
        wave += 1
        idx = [q for q in need if need[q]]
        if not idx:
            break
        cap = min(room, max(max(need[q]) for q in idx) + 1)
        outs = generate_forced(engine, [prompts[q] for q in idx], tokens, cap, method, controller,
                               seed=seed * 1000 + wave, num_ignore=0, desc=f"rs wave {wave}")
        for q, smp in zip(idx, outs):
            if smp.forced_end:  # cut at the cap: not a sample that fits by itself
                continue
            for b in sorted(need[q]):
                if smp.thinking_tokens <= b:
                    accepted[(q, b)] = (smp, wave, False)
                    need[q].discard(b)
    for c in cells:  # fallback: cut at the budget
        idx = [q for q in need if c.budget_tokens in need[q]]
        if idx:
            outs = generate_forced(engine, [prompts[q] for q in idx], tokens, c.budget_tokens, method, controller,
                                   seed=seed * 1000 + wave + 1, num_ignore=0, desc=f"rs fallback {c.budget}")
            for q, smp in zip(idx, outs):
                accepted[(q, c.budget_tokens)] = (smp, wave, True)
    result = {}
    for c in cells:
        picks = [accepted[(q, c.budget_tokens)] for q in range(len(questions))]
        extras = [{"tries": t, "rs_fallback": fb} for _, t, fb in picks]
        result[c.label] = grade_samples(tokenizer, questions, prompts_text, [p for p, _, _ in picks], method, c,
                                        controller, extras, grading)
    return result


def plain_generations(engine, tokenizer, questions, method, max_tokens: int, seed: int
                      ) -> tuple[list[str], list[ForcedSample], list[str]]:
    """``method.split_thinking=false``: one generation per question from the chat template with
    no thinking delimiter, up to ``max_tokens``, stopping at the end of turn (the authors' path
    without thinking gen_kwargs); returns the prompts, the samples and the whole texts to grade."""
    from s1x.evaluate.controllers.authors import AuthorsProtocol, AuthorsTokens, run_unsplit
    from s1x.formatting import prompt_text

    protocol = AuthorsProtocol(temperature=method.temperature, top_p=method.top_p, max_answer_tokens=max_tokens)
    texts = [prompt_text(tokenizer, q.question) for q in questions]
    ids = [list(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    runs = run_unsplit(engine, ids, AuthorsTokens.build(tokenizer, protocol), protocol, seed, "majority plain")
    return texts, [r.sample for r in runs], [tokenizer.decode(r.sample.token_ids) for r in runs]


def vote_ks(method) -> list[int]:
    """The k of maj@k: ``method.vote_ks``, or 1, 2, 4, ... and K itself."""
    if method.vote_ks:
        return sorted(set(method.vote_ks))
    ks, k = [], 1
    while k < method.samples:
        ks.append(k)
        k *= 2
    return ks + [method.samples]


def majority_rows(records: list[dict], questions, method, cell: Cell, benchmark: str, out_dir: Path,
                  seed: int) -> list[dict]:
    """maj@k for each k over the K graded samples of every question, votes grouped by the
    grader's equivalence, with ``method.maj_estimator`` (first k samples, or the expectation
    over k-subsets); writes ``<name>/k<k>/votes.jsonl`` (one record per question, ``correct`` =
    maj@k, ``votes`` = each sample's vote, the gold's class written as ``\x00gold``)."""
    by_q: dict[str, list[dict]] = {}
    for r in records:
        by_q.setdefault(r["id"], []).append(r)
    # Per-sample means (answer tokens, forced ends, ...) are shared by every k.
    base = {**summarize(records, benchmark, method, cell, ""), "n": len(questions)}
    per_sample = base["mean_thinking_tokens"]
    rows = []
    ballots = {}  # per question: its samples in order, their answers, their votes (s1x.evaluate.votes)
    for q in questions:
        rs = sorted(by_q[q.id], key=lambda r: r.get("sample_index", 0))
        answers = [r["extracted"] or None for r in rs]
        ballots[q.id] = (answers, vote_keys(answers, [r["correct"] for r in rs], rule_equal(q.grader)))
    for k in vote_ks(method):
        votes = []
        for q in questions:
            answers, keys = ballots[q.id]
            score = maj_score(keys, k, method.maj_estimator, method.vote_subsets, seed)
            votes.append({"id": q.id, "k": k, "correct": score, "answers": answers, "gold": q.gold,
                          "votes": keys})
        rel = Path(method.name) / f"k{k}" / "votes.jsonl"
        (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        write_jsonl(out_dir / rel, votes)
        rows.append({
            **base, "samples": str(rel),
            "accuracy": sum(v["correct"] for v in votes) / len(votes),
            # Parallel compute: the thinking of all k samples of a question (Figure 4b's axis).
            "mean_thinking_tokens": k * per_sample,
            "k": k, "variant": f"k={k}", "mean_thinking_tokens_per_sample": per_sample,
            "samples_per_question": method.samples,
        })
    return rows


class RejectionSampling(MethodKind):
    """``rs``: sample until thinking fits each budget (one cell per budget)."""

    name, needs_budgets = "rs", True
    has_authors_protocol = True

    def cells(self, method) -> list[Cell]:
        return [Cell(f"{method.name}-{b}", b, b, None, None) for b in method.budgets]

    def check(self, method, cfg) -> None:
        require(method.temperature > 0, "method.temperature", method.temperature,
                "rejection sampling samples: use e.g. 1.0")

    def check_authors(self, method) -> None:
        require(method.temperature == 1.0, "method.temperature", method.temperature,
                "the authors' rejection sampling samples at temperature 1 (or pick method.controller=rounds)")

    def run(self, run: MethodRun) -> list[dict]:
        prompts_text, prompts = question_prompts(run.tokenizer, run.questions, None)
        room = thinking_room(run.method, run.engine, prompts, run.tokens)
        by_label = run_rejection_sampling(run.engine, run.tokenizer, run.questions, prompts_text, prompts, run.tokens,
                                          run.method, run.cells, room, run.controller, run.seed, run.grading)
        rows = []
        for c in run.cells:
            picks = by_label[c.label]
            extra = {"mean_tries": sum(p["tries"] for p in picks) / len(picks),
                     "fallback_rate": sum(p["rs_fallback"] for p in picks) / len(picks)}
            rows.append(run.finish_cell(c.label, picks, c, extra))
        return rows

    def fit_cap(self, method, cells: list[Cell], cap: int) -> int:
        # It samples up to one token past its largest budget, within the room.
        return min(cap, max(c.budget_tokens for c in cells) + 1) if method.max_thinking_tokens != "auto" else cap

    def authors_cap(self, method, cell: Cell):
        return cell.budget or method.max_thinking_tokens

    def authors_generate(self, run: MethodRun, ids, tokens, protocol, cap: int, desc: str):
        from s1x.evaluate.controllers.authors_rs import run_authors_rs

        picked = run_authors_rs(run.engine, ids, tokens, protocol, cap, max_tries_of(run.method), run.seed, desc)
        fields = [{"tries": t, "rs_fallback": fb} for _, t, fb in picked]
        extra = {"mean_tries": sum(t for _, t, _ in picked) / len(picked),
                 "fallback_rate": sum(fb for _, _, fb in picked) / len(picked)}
        return [r for r, _, _ in picked], fields, extra


def max_tries_of(method) -> int | None:
    """Rejection sampling's cap on waves under the authors' protocol: ``auto`` is none there."""
    return None if method.max_tries in ("auto", None) else int(method.max_tries)


class Majority(MethodKind):
    """``majority``: K samples per question, maj@k for each k (one cell, rows per k)."""

    name = "majority"
    has_authors_protocol = True

    def check(self, method, cfg) -> None:
        from s1x.evaluate.votes import ESTIMATORS

        require(method.samples > 0, "method.samples", method.samples, "must be a positive number of samples per question")
        require(method.samples == 1 or method.temperature > 0, "method.temperature", method.temperature,
                "majority vote over greedy samples votes one answer k times; use e.g. method.temperature=1.0")
        require(method.maj_estimator in ESTIMATORS, "method.maj_estimator", method.maj_estimator,
                "must be first_k (the authors': the first k samples) or subsets (random k-subsets)")
        require(method.split_thinking or method.num_ignore == 0, "method.split_thinking", False,
                "a plain generation has no thinking to extend; drop method.num_ignore or set method.split_thinking=true")
        require(method.controller == "authors" or method.num_ignore == 0, "method.num_ignore", method.num_ignore,
                "majority extends thinking only under method.controller=authors (their second Majority command); "
                "use method.controller=authors or method.num_ignore=0")
        for k in method.vote_ks or []:
            require(0 < k <= method.samples, "method.vote_ks", list(method.vote_ks),
                    f"each k must be in 1..method.samples={method.samples}")

    def run(self, run: MethodRun) -> list[dict]:
        method, questions, cell = run.method, run.questions, run.cells[0]
        prompts_text, prompts = question_prompts(run.tokenizer, questions, None)
        room = thinking_room(method, run.engine, prompts, run.tokens)
        reps = [i for i in range(len(questions)) for _ in range(method.samples)]
        answers = None  # graded texts: what follows thinking, or a plain generation's whole text
        if method.split_thinking:
            outs = generate_forced(run.engine, [prompts[i] for i in reps], run.tokens, room, method, run.controller,
                                   seed=run.seed, num_ignore=0, desc=f"majority x{method.samples}")
            texts = [prompts_text[i] for i in reps]
        else:  # the base model's plain generation (Figure 4b): room for thinking and answer, no split
            texts, outs, answers = plain_generations(run.engine, run.tokenizer, [questions[i] for i in reps], method,
                                                     room + method.max_answer_tokens, run.seed)
        records = grade_samples(run.tokenizer, [questions[i] for i in reps], texts, outs, method, cell, run.controller,
                                [{"sample_index": j % method.samples} for j in range(len(reps))], run.grading, answers)
        return [{**r, **run.common} for r in self._write(run, records)]

    def _write(self, run: MethodRun, records: list[dict]) -> list[dict]:
        """Write the K samples per question and return the maj@k rows."""
        rel = Path(run.method.name) / "samples.jsonl"
        (run.out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        write_jsonl(run.out_dir / rel, records)
        return majority_rows(records, run.questions, run.method, run.cells[0], run.benchmark, run.out_dir, run.seed)

    def authors_copies(self, method) -> int:
        return method.samples

    def authors_sample_indexed(self, method) -> bool:
        return True  # maj@k reads sample_index, even with one sample

    def authors_unsplit(self, method) -> bool:
        return not method.split_thinking  # their first Majority command: one plain generation each

    def authors_rows(self, run: MethodRun, by_label, rows_extra) -> list[dict]:
        return self._write(run, by_label[run.cells[0].label])


register_method_kind(RejectionSampling())
register_method_kind(Majority())
