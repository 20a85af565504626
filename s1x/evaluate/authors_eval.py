"""Every method under ``method.controller=authors``: what the authors' commands run for it
(``eval/commands.sh`` in ``simplescaling/s1``), cell by cell, through
:mod:`s1x.evaluate.controllers.authors`.

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

from s1x.evaluate.controllers.authors import (THINK_END, AuthorsProtocol, AuthorsTokens, answers_at_each_ignore,
                                              auto_cap, run_unsplit)
from s1x.evaluate.methods.kinds import MethodKind, MethodRun, with_label
from s1x.evaluate.sample_records import grade_samples
from s1x.formatting import prompt_text


def protocol_of(method, kind: MethodKind | None = None) -> AuthorsProtocol:
    """The gen_kwargs of the authors' command for ``method`` (its kind changes what it must)."""
    if kind is None:
        from s1x.evaluate.methods.kinds import method_kind

        kind = method_kind(method.kind)
    return AuthorsProtocol(**{
        "num_ignore": method.num_ignore if method.num_ignore > 0 else None,
        "ignore_str": method.ignore_str or None,
        "min_thinking": method.min_thinking_tokens,
        "temperature": method.temperature, "top_p": method.top_p, "max_answer_tokens": method.max_answer_tokens,
        **kind.authors_protocol(method)})


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


def authors_cells(run: MethodRun, kind: MethodKind) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Run and grade every cell of ``run.method`` the authors' way: sample records per cell label
    and the extra fields of each results row. What differs by kind (suffix, cap, copies, an
    unsplit generation, rejection sampling's runs) is the kind's to say."""
    method, tokenizer, questions, seed = run.method, run.tokenizer, run.questions, run.seed
    protocol = protocol_of(method, kind)
    tokens = AuthorsTokens.build(tokenizer, protocol)
    by_label: dict[str, list[dict]] = {}
    extra: dict[str, dict] = {}
    copies = kind.authors_copies(method)
    # No thinking split: "s1 without budget forcing", and majority's plain generation (Figure 4b's base model).
    unsplit = kind.authors_unsplit(method)
    for c in run.cells:
        texts = [prompt_text(tokenizer, q.question + kind.authors_suffix(method, c)) for q in questions
                 for _ in range(copies)]
        qs = [q for q in questions for _ in range(copies)]
        ids = [list(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        fields: list[dict] = [{} for _ in qs]
        row_extra = kind.row_extra(method)
        if unsplit:
            runs = run_unsplit(run.engine, ids, tokens, protocol, seed, f"authors {c.label}")
        else:
            texts = [t + protocol.think_start for t in texts]
            cap = kind.authors_cap(method, c)
            cap = auto_cap(ids, tokens, method.max_answer_tokens) if cap == "auto" else int(cap)
            runs, fields, more = kind.authors_generate(run, ids, tokens, protocol, cap, f"authors {c.label}")
            row_extra = {**row_extra, **(more or {})}
            for f in fields:
                f["thinking_cap"] = cap
        for f, r in zip(fields, runs):
            text = generated_text(tokenizer, r.sample, protocol, r.thinking_text, unsplit)
            f["stats_thinking_tokens"] = stats_thinking_tokens(tokenizer, text)
        if kind.authors_sample_indexed(method):
            fields = [dict(f, sample_index=j % copies) for j, f in enumerate(fields)]
        # The whole response is graded where the model wrote its own delimiters (their text).
        answers = [tokenizer.decode(r.sample.token_ids) for r in runs] if unsplit else None
        if method.answer_each_ignore:
            for i, shared in enumerate(answers_at_each_ignore(run.engine, runs, tokens, protocol, cap, seed)):
                label = f"{c.label}-x{i}"
                counts = [dict(f, num_ignore=i, stats_thinking_tokens=stats_thinking_tokens(tokenizer, generated_text(
                    tokenizer, smp, protocol, r.thinking_text if smp is r.sample else None, False)))
                    for f, smp, r in zip(fields, shared, runs)]
                by_label[label] = grade_samples(tokenizer, qs, texts, shared, method, with_label(c, label), "authors",
                                                counts, run.grading)
                extra[label] = {"num_ignore": i, "variant": f"{method.ignore_str or 'empty'} x{i}"}
        else:
            by_label[c.label] = grade_samples(tokenizer, qs, texts, [r.sample for r in runs], method, c, "authors",
                                              fields, run.grading, answers)
            if row_extra:
                extra[c.label] = row_extra
    return by_label, extra
