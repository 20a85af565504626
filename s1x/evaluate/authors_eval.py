"""Every method under ``method.controller=authors``: what the authors' commands run for it
(``eval/commands.sh`` in ``simplescaling/s1``), cell by cell, through
:mod:`s1x.evaluate.methods.authors`.

| method | prompt suffix (their task utils) | thinking cap | their gen_kwargs |
|---|---|---|---|
| none | - | - (one generation, no split) | max_gen_toks |
| bf, bf_extend | - | budget, else max_thinking_tokens | max_tokens_thinking, thinking_n_ignore(_str) |
| tcc / tcc_bf | "Think for up to B tokens." | max thinking / B | PROMPTTOKEN |
| scc / scc_bf | "Think for up to S steps." | max thinking (scc_bf: think start ``<|im_start|>``, stop at ``<|im_start|>0``) | PROMPTSTEP |
| ccc | their PROMPTSHORT / PROMPTLONG text | max thinking | PROMPTSHORT / PROMPTLONG |
| rs | - | budget (rejection) | rejection_sample=true, temperature=1 |
| majority | - | ``samples`` copies; ``split_thinking=false``: one plain generation each (their first Majority command); true: max thinking | temperature=1 (their agg64 tasks) |

``num_ignore=0`` is their path without ``thinking_n_ignore``. ``max_thinking_tokens=auto``
is their formula over ``max_answer_tokens`` (their ``max_gen_toks``).
"""

from __future__ import annotations

from s1x.evaluate.methods.authors import (SCC_BF_THINK_START, SCC_BF_UNTIL, SUFFIX_CLASS, SUFFIX_STEPS, SUFFIX_TOKENS,
                                          THINK_END, AuthorsProtocol, AuthorsTokens, answers_at_each_ignore,
                                          auto_cap, run_authors, run_unsplit)
from s1x.evaluate.methods.authors_rs import run_authors_rs
from s1x.evaluate.methods.plan import Cell
from s1x.evaluate.samples import Grading, grade_samples
from s1x.formatting import prompt_text


def max_tries_of(method) -> int | None:
    """Rejection sampling's cap on waves: ``auto`` is none under the authors' protocol."""
    return None if method.max_tries in ("auto", None) else int(method.max_tries)


def protocol_of(method) -> AuthorsProtocol:
    """The gen_kwargs of the authors' command for ``method``."""
    scc_bf = method.kind == "scc_bf"
    return AuthorsProtocol(
        num_ignore=method.num_ignore if method.num_ignore > 0 else None,
        ignore_str=method.ignore_str or None,
        min_thinking=method.min_thinking_tokens,
        think_start=SCC_BF_THINK_START if scc_bf else AuthorsProtocol.think_start,
        until_thinking=SCC_BF_UNTIL if scc_bf else AuthorsProtocol.until_thinking,
        temperature=method.temperature, top_p=method.top_p, max_answer_tokens=method.max_answer_tokens)


def suffix_of(method, cell: Cell) -> str:
    """What their task utils append to the question for this cell."""
    if method.kind in ("tcc", "tcc_bf"):
        return SUFFIX_TOKENS.format(cell.budget)
    if method.kind in ("scc", "scc_bf"):
        return SUFFIX_STEPS.format(cell.budget)
    if method.kind == "ccc":
        return SUFFIX_CLASS[cell.variant]
    return ""


def stats_thinking_tokens(tokenizer, generated_text: str) -> int:
    """The thinking count of their ``eval/compute_sample_stats.py`` (the figures' axis): the text
    before ``<|im_start|>answer`` without its first and last lines, tokenized again."""
    lines = generated_text.split(THINK_END)[0].split("\n")[1:-1]
    return len(tokenizer.tokenize("\n".join(lines)))


def generated_text(tokenizer, sample, protocol: AuthorsProtocol, thinking_text: str | None, unsplit: bool) -> str:
    """The text their ``generate_until`` returns: think start + vLLM's thinking text (uncut,
    ``thinking_text``; the sample's own thinking where none is given) + the rest."""
    if unsplit:
        return tokenizer.decode(sample.token_ids)
    n = sample.thinking_tokens
    thinking = tokenizer.decode(sample.token_ids[:n]) if thinking_text is None else thinking_text
    return protocol.think_start + thinking + tokenizer.decode(sample.token_ids[n:])


def authors_cells(engine, tokenizer, questions, method, cells: list[Cell], seed: int, grading: Grading
                  ) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Run and grade every cell of ``method`` the authors' way: sample records per cell label and
    the extra fields of each results row."""
    protocol = protocol_of(method)
    tokens = AuthorsTokens.build(tokenizer, protocol)
    by_label: dict[str, list[dict]] = {}
    extra: dict[str, dict] = {}
    copies = method.samples if method.kind == "majority" else 1
    for c in cells:
        texts = [prompt_text(tokenizer, q.question + suffix_of(method, c)) for q in questions for _ in range(copies)]
        qs = [q for q in questions for _ in range(copies)]
        ids = [list(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        # No thinking split: "s1 without budget forcing", and majority's plain generation (Figure 4b's base model).
        unsplit = method.kind == "none" or (method.kind == "majority" and not method.split_thinking)
        fields: list[dict] = [{} for _ in qs]
        if unsplit:
            runs = run_unsplit(engine, ids, tokens, protocol, seed, f"authors {c.label}")
        else:
            texts = [t + protocol.think_start for t in texts]
            cap = c.budget if method.kind in ("bf", "tcc_bf", "rs") and c.budget else method.max_thinking_tokens
            cap = auto_cap(ids, tokens, method.max_answer_tokens) if cap == "auto" else int(cap)
            if method.kind == "rs":
                picked = run_authors_rs(engine, ids, tokens, protocol, cap, max_tries_of(method), seed,
                                        f"authors {c.label}")
                runs = [r for r, _, _ in picked]
                fields = [{"tries": t, "rs_fallback": fb} for _, t, fb in picked]
                extra[c.label] = {"mean_tries": sum(t for _, t, _ in picked) / len(picked),
                                  "fallback_rate": sum(fb for _, _, fb in picked) / len(picked)}
            else:
                runs = run_authors(engine, ids, tokens, protocol, cap, seed, f"authors {c.label}")
            for f in fields:
                f["thinking_cap"] = cap
        for f, r in zip(fields, runs):
            text = generated_text(tokenizer, r.sample, protocol, r.thinking_text, unsplit)
            f["stats_thinking_tokens"] = stats_thinking_tokens(tokenizer, text)
        if method.kind == "majority":
            fields = [dict(f, sample_index=j % copies) for j, f in enumerate(fields)]
        # The whole response is graded where the model wrote its own delimiters (their text).
        answers = [tokenizer.decode(r.sample.token_ids) for r in runs] if unsplit else None
        if method.answer_each_ignore:
            for i, shared in enumerate(answers_at_each_ignore(engine, runs, tokens, protocol, cap, seed)):
                label = f"{c.label}-x{i}"
                cell_i = Cell(label, c.budget, c.budget_tokens, c.statement, c.cap, c.variant)
                counts = [dict(f, num_ignore=i, stats_thinking_tokens=stats_thinking_tokens(tokenizer, generated_text(
                    tokenizer, smp, protocol, r.thinking_text if smp is r.sample else None, False)))
                    for f, smp, r in zip(fields, shared, runs)]
                by_label[label] = grade_samples(tokenizer, qs, texts, shared, method, cell_i, "authors", counts, grading)
                extra[label] = {"num_ignore": i, "variant": f"{method.ignore_str or 'empty'} x{i}"}
        else:
            by_label[c.label] = grade_samples(tokenizer, qs, texts, [r.sample for r in runs], method, c, "authors",
                                              fields, grading, answers)
            if method.kind == "bf":
                extra[c.label] = {"num_ignore": method.num_ignore}
    return by_label, extra
