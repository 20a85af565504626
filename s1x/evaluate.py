"""The evaluate stage: run a test-time method on one benchmark, grade, and summarize.

One call covers every cell of the method (:mod:`s1x.methods.plan`: a budget, a
ccc class, an ignore count, a k of maj@k). Each cell writes its own
``samples.jsonl`` (one record per question, with the exact token accounting and
the generation rounds) and yields one results row. Generation goes through
budget forcing with either controller: ``one_pass`` (HF logits processor) or
``rounds`` (any engine; the only one on vLLM).
"""

from __future__ import annotations

from pathlib import Path


from s1x.analysis.stats import maj_at_k
from s1x.engines.base import GenerationRequest
from s1x.formatting import THINK_END, generation_prompt, with_statement
from s1x.grading import grade_many
from s1x.methods.budget_forcing import (KIND_ANSWER, KIND_DELIM, ForcedSample, ForcingTokens,
                                        run_one_pass)
from s1x.methods.plan import Cell, plan_cells
from s1x.methods.rounds import run_rounds
from s1x.records import BenchmarkQuestion, write_jsonl

STAGE_VERSION = 4  # 2: math grader, graded in worker processes; 3: every method, engine interface, rounds;
# 4: generation_config extras off (top_k, repetition penalty), rs skips cut samples, per-request seeds
GRADE_TIMEOUT_S = 5.0


def _segments(tokenizer, token_ids: list[int], kinds: list[str]) -> list[dict]:
    """Consecutive tokens of one kind (think, forced_ignore, delimiter, answer) as text segments."""
    segs: list[dict] = []
    for tok, kind in zip(token_ids, kinds):
        if segs and segs[-1]["kind"] == kind:
            segs[-1]["ids"].append(tok)
        else:
            segs.append({"kind": kind, "ids": [tok]})
    return [{"kind": s["kind"], "tokens": len(s["ids"]), "text": tokenizer.decode(s["ids"])} for s in segs]


def _controller(method, engine) -> str:
    """one_pass needs the HF engine's logits processors; rounds run on any engine."""
    if method.controller != "auto":
        return method.controller
    return "one_pass" if hasattr(engine, "generate") else "rounds"


def thinking_room(method, engine, prompts: list[list[int]], tokens: ForcingTokens) -> int:
    """``method.max_thinking_tokens``, or for ``auto`` the context left after the longest prompt
    and the answer room (a newline, delimiter + prefix, the answer, end of turn)."""
    if method.max_thinking_tokens != "auto":
        return int(method.max_thinking_tokens)
    context = getattr(engine, "context_length", None)
    if not context:
        raise ValueError("method.max_thinking_tokens=auto needs the engine's context length; "
                         "set engine.max_model_len (vllm) or give a number, e.g. method.max_thinking_tokens=32000")
    room = context - max(len(p) for p in prompts) - (1 + len(tokens.end_sequence) + method.max_answer_tokens + 1)
    if room <= 0:
        raise ValueError(f"method.max_thinking_tokens=auto leaves {room} thinking tokens: the longest prompt has "
                         f"{max(len(p) for p in prompts)} of the {context}-token context; use a longer context "
                         "(engine.max_model_len) or shorter method.max_answer_tokens")
    return room


def generate_forced(engine, prompts, tokens: ForcingTokens, cap: int, method, controller: str, *, seed: int,
                    num_ignore: int | None = None, temperature: float | None = None, desc: str = "generate"):
    """Budget-forced generation of ``prompts`` with either controller (identical under greedy)."""
    run = run_one_pass if controller == "one_pass" else run_rounds
    return run(engine, prompts, tokens, cap,
               num_ignore=method.num_ignore if num_ignore is None else num_ignore,
               min_thinking=method.min_thinking_tokens, max_answer_tokens=method.max_answer_tokens,
               temperature=method.temperature if temperature is None else temperature, top_p=method.top_p,
               seed=seed, desc=desc)


def answers_at_each_ignore(engine, prompts, samples: list[ForcedSample], tokens: ForcingTokens, num_ignore: int,
                           max_answer_tokens: int, seed: int) -> list[list[ForcedSample]]:
    """Prefix sharing: from one generation with up to ``num_ignore`` ignores, the sample each
    ignore count 0..num_ignore would have produced, ``[i][question]``.

    A run allowed i ignores is the same run up to the (i+1)-th time the model ends
    thinking; there it ends. So its answer is forced from that snapshot (thinking
    so far + delimiter + answer prefix) and only the short answers are generated.
    A sample with at most i ignores used is already that run."""
    out = [list(samples) for _ in range(num_ignore + 1)]
    jobs = [(i, q) for q, s in enumerate(samples) for i in range(min(s.ignores_used, num_ignore))]
    if hasattr(engine, "answers_from_snapshots"):  # HF: one prefill per sample, the KV cache shared by all cuts
        cuts = [[len(prompts[q]) + c for c in s.snapshots[:num_ignore]] for q, s in enumerate(samples)]
        seqs = [list(prompts[q]) + s.token_ids[: s.snapshots[min(len(s.snapshots), num_ignore) - 1]]
                if s.snapshots else list(prompts[q]) for q, s in enumerate(samples)]
        branches = engine.answers_from_snapshots(seqs, cuts, list(tokens.end_sequence), max_answer_tokens)
        answers = [branches[q][i] for i, q in jobs]
    else:  # any engine: one request per cut (vLLM's prefix caching serves the shared prefixes)
        reqs = [GenerationRequest(tuple(prompts[q]) + tuple(samples[q].token_ids[: samples[q].snapshots[i]])
                                  + tuple(tokens.end_sequence), max_answer_tokens, seed=seed) for i, q in jobs]
        answers = [o.token_ids for (o,) in engine.generate_requests(reqs, desc="answers at each ignore")] if reqs else []
    for (i, q), answer in zip(jobs, answers):
        s = samples[q]
        cut = s.snapshots[i]
        # Everything before the cut is thinking (think and forced-ignore tokens alike).
        d = ForcedSample(token_ids=s.token_ids[:cut], kinds=s.kinds[:cut], thinking_tokens=cut, ignores_used=i)
        d.extend(tokens.end_sequence, KIND_DELIM)
        d.extend(answer, KIND_ANSWER)
        d.token_ids.append(tokens.end_of_turn)
        d.kinds.append(KIND_ANSWER)
        d.rounds = [{"phase": "shared_prefix", "from_ignore": i, "prefix_tokens": cut}]
        out[i][q] = d
    return out


def _record(tokenizer, q: BenchmarkQuestion, prompt: str, s: ForcedSample, method, cell: Cell, g, answer: str,
            controller: str, extra: dict | None = None) -> dict:
    segments = _segments(tokenizer, s.token_ids, s.kinds)
    return {
        "id": q.id,
        "question": q.question,
        "prompt": prompt,
        "method": method.name,
        "kind": method.kind,
        "budget": cell.budget,
        "budget_tokens": cell.budget_tokens,
        "num_ignore": method.num_ignore,
        "ignore_str": method.ignore_str,
        "controller": controller,
        "segments": segments,
        "rounds": s.rounds,
        "response": tokenizer.decode(s.token_ids),
        "stop_reason": s.stop_reason,
        "thinking_tokens": s.thinking_tokens,
        "answer_tokens": s.answer_tokens,
        "forced_end": s.forced_end,
        "ignores_used": s.ignores_used,
        "within_budget": None if cell.budget_tokens is None else s.thinking_tokens <= cell.budget_tokens,
        "answer_text": answer,
        "extracted": g.extracted,
        "gold": q.gold,
        "grader": q.grader,
        "correct": g.correct,
        "grade_timed_out": g.timed_out,
        "meta": q.meta,
        **(extra or {}),
    }


def grade_samples(tokenizer, questions: list[BenchmarkQuestion], prompts_text: list[str], samples: list[ForcedSample],
                  method, cell: Cell, controller: str, extras: list[dict] | None = None) -> list[dict]:
    """Grade what follows thinking in each sample and build the sample records."""
    kinds_answer = (KIND_DELIM, KIND_ANSWER)
    # Grade only what follows thinking, so an "Answer:" written while thinking never counts.
    answers = [tokenizer.decode([t for t, k in zip(s.token_ids, s.kinds) if k in kinds_answer]) for s in samples]
    grades = grade_many(answers, [q.gold for q in questions], [q.grader for q in questions], timeout_s=GRADE_TIMEOUT_S)
    return [_record(tokenizer, q, p, s, method, cell, g, a, controller, (extras[i] if extras else None))
            for i, (q, p, s, g, a) in enumerate(zip(questions, prompts_text, samples, grades, answers))]


def _prompts(tokenizer, questions, statement: str | None) -> tuple[list[str], list[list[int]]]:
    texts = [generation_prompt(tokenizer, with_statement(q.question, statement)) for q in questions]
    return texts, [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


def summarize(samples: list[dict], benchmark: str, method, cell: Cell, samples_path: str) -> dict:
    """One results row (the ``results.json`` contract) from the samples of one cell."""
    n = len(samples)
    thinking = [s["thinking_tokens"] for s in samples]
    row = {
        "benchmark": benchmark,
        "method": method.name,
        "budget": cell.budget,
        "n": n,
        "accuracy": sum(s["correct"] for s in samples) / n,
        "mean_thinking_tokens": sum(thinking) / n,
        "max_thinking_tokens": max(thinking),
        "within_budget_rate": None if cell.budget_tokens is None else sum(s["within_budget"] for s in samples) / n,
        "mean_answer_tokens": sum(s["answer_tokens"] for s in samples) / n,
        "forced_end_rate": sum(s["forced_end"] for s in samples) / n,
        "no_answer_rate": sum(s["stop_reason"] == "length" for s in samples) / n,
        "samples": samples_path,
        "kind": method.kind,
        "budget_tokens": cell.budget_tokens,
        "mean_ignores_used": sum(s["ignores_used"] for s in samples) / n,
    }
    if cell.variant is not None:
        row["variant"] = cell.variant
    return row


def cross_grade(samples: list[dict], extra_graders: list[str]) -> list[dict]:
    """Grade every sample again with each of ``extra_graders``; record all verdicts under
    ``grades`` and return the samples on which the graders disagree (the disagreement report)."""
    if not extra_graders:
        return []
    answers = [s["answer_text"] for s in samples]
    verdicts = {k: grade_many(answers, [s["gold"] for s in samples], k, timeout_s=GRADE_TIMEOUT_S)
                for k in extra_graders}
    report = []
    for i, s in enumerate(samples):
        s["grades"] = {s["grader"]: s["correct"], **{k: v[i].correct for k, v in verdicts.items()}}
        if len(set(s["grades"].values())) > 1:
            report.append({"id": s["id"], "gold": s["gold"], "extracted": s["extracted"], "grades": s["grades"]})
    return report


def run_rejection_sampling(engine, tokenizer, questions, prompts_text, prompts, tokens, method, cells: list[Cell],
                           room: int, controller: str, seed: int) -> dict[str, list[dict]]:
    """rs: sample (temperature ``method.temperature``) until thinking fits each budget.

    One pool of samples per question serves every budget: wave w draws one more
    sample for each question that still misses some budget, and a budget takes the
    first sample within it (``tries`` = its wave). Samples are capped one token
    above the largest budget still missing (beyond it they are rejected anyway).
    After ``max_tries`` waves a budget still missing gets a budget-forced sample
    cut at the budget (``rs_fallback``), so every sample respects its budget."""
    need = {q: {c.budget_tokens for c in cells} for q in range(len(questions))}
    accepted: dict[tuple[int, int], tuple[ForcedSample, int, bool]] = {}
    for wave in range(1, method.max_tries + 1):
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
                                   seed=seed * 1000 + method.max_tries + 1, num_ignore=0, desc=f"rs fallback {c.budget}")
            for q, smp in zip(idx, outs):
                accepted[(q, c.budget_tokens)] = (smp, method.max_tries, True)
    result = {}
    for c in cells:
        picks = [accepted[(q, c.budget_tokens)] for q in range(len(questions))]
        extras = [{"tries": t, "rs_fallback": fb} for _, t, fb in picks]
        result[c.label] = grade_samples(tokenizer, questions, prompts_text, [p for p, _, _ in picks], method, c,
                                        controller, extras)
    return result


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
    """maj@k for each k by subsampling the K graded samples of every question; writes
    ``<name>/k<k>/votes.jsonl`` (one record per question, ``correct`` = expected maj@k)."""
    by_q: dict[str, list[dict]] = {}
    for r in records:
        by_q.setdefault(r["id"], []).append(r)
    # Per-sample means (answer tokens, forced ends, ...) are shared by every k.
    base = {**summarize(records, benchmark, method, cell, ""), "n": len(questions)}
    per_sample = base["mean_thinking_tokens"]
    rows = []
    for k in vote_ks(method):
        votes = []
        for q in questions:
            rs = by_q[q.id]
            answers = [r["extracted"] or None for r in rs]
            score = maj_at_k(answers, [r["correct"] for r in rs], k, method.vote_subsets, seed)
            votes.append({"id": q.id, "k": k, "correct": score, "answers": answers, "gold": q.gold})
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


def evaluate_benchmark(engine, tokenizer, questions: list[BenchmarkQuestion], benchmark: str, method, seed: int,
                       out_dir: Path, extra_graders: list[str] = ()) -> list[dict]:
    """Evaluate ``method`` on one benchmark, one results row per cell; write samples under ``out_dir``.

    With ``extra_graders``, every sample is also graded by those graders and each
    cell's dir gets ``disagreements.jsonl`` (questions the graders judge differently).
    Returns results rows whose ``samples`` path is relative to ``out_dir``.
    """
    tokens = ForcingTokens.from_tokenizer(tokenizer, THINK_END, method.answer_prefix, method.ignore_str)
    controller = _controller(method, engine)
    cells = plan_cells(method)
    by_label: dict[str, list[dict]] = {}
    rows_extra: dict[str, dict] = {}
    if method.kind == "rs":
        prompts_text, prompts = _prompts(tokenizer, questions, None)
        room = thinking_room(method, engine, prompts, tokens)
        by_label = run_rejection_sampling(engine, tokenizer, questions, prompts_text, prompts, tokens, method, cells,
                                          room, controller, seed)
        for c in cells:
            picks = by_label[c.label]
            rows_extra[c.label] = {"mean_tries": sum(p["tries"] for p in picks) / len(picks),
                                   "fallback_rate": sum(p["rs_fallback"] for p in picks) / len(picks)}
    elif method.kind == "majority":
        prompts_text, prompts = _prompts(tokenizer, questions, None)
        room = thinking_room(method, engine, prompts, tokens)
        reps = [i for i in range(len(questions)) for _ in range(method.samples)]
        outs = generate_forced(engine, [prompts[i] for i in reps], tokens, room, method, controller, seed=seed,
                               num_ignore=0, desc=f"majority x{method.samples}")
        records = grade_samples(tokenizer, [questions[i] for i in reps], [prompts_text[i] for i in reps], outs, method,
                                cells[0], controller, [{"sample_index": j % method.samples} for j in range(len(reps))])
        rel = Path(method.name) / "samples.jsonl"
        (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        write_jsonl(out_dir / rel, records)
        return majority_rows(records, questions, method, cells[0], benchmark, out_dir, seed)
    else:
        for c in cells:
            prompts_text, prompts = _prompts(tokenizer, questions, c.statement)
            cap = c.cap if c.cap is not None else thinking_room(method, engine, prompts, tokens)
            outs = generate_forced(engine, prompts, tokens, cap, method, controller, seed=seed, desc=f"generate {c.label}")
            if method.answer_each_ignore:
                for i, shared in enumerate(answers_at_each_ignore(engine, prompts, outs, tokens, method.num_ignore,
                                                                  method.max_answer_tokens, seed)):
                    label = f"{c.label}-x{i}"
                    cell_i = Cell(label, c.budget, c.budget_tokens, c.statement, c.cap, c.variant)
                    by_label[label] = grade_samples(tokenizer, questions, prompts_text, shared, method, cell_i, controller,
                                                    [{"num_ignore": i}] * len(questions))
                    rows_extra[label] = {"num_ignore": i, "variant": f"{method.ignore_str or 'empty'} x{i}"}
            else:
                by_label[c.label] = grade_samples(tokenizer, questions, prompts_text, outs, method, c, controller)
                if method.kind == "bf":
                    rows_extra[c.label] = {"num_ignore": method.num_ignore}
    rows = []
    cells_by_label = {c.label: c for c in cells}
    for label, samples in by_label.items():
        cell = cells_by_label.get(label) or cells_by_label[label.rsplit("-x", 1)[0]]
        rel = Path(label) / "samples.jsonl"
        (out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        disagreements = cross_grade(samples, list(extra_graders))
        write_jsonl(out_dir / rel, samples)
        row = {**summarize(samples, benchmark, method, cell, str(rel)), **rows_extra.get(label, {}), "controller": controller}
        if extra_graders:
            write_jsonl(out_dir / rel.parent / "disagreements.jsonl", disagreements)
            row["grader_disagreements"] = len(disagreements)
        rows.append(row)
    return rows
