"""s1K selection in ``setting=paper`` against a direct re-statement of the authors' notebook.

``notebook_filter`` and ``notebook_sample`` below re-state ``data/filter.ipynb`` cells 4-21 line by line (dicts keyed
by question hash, the authors' feature names), with the unseeded ``np.random`` calls replaced
by a seeded ``numpy.random.Generator``. s1x runs its own code (the paper config's
``selection=s1k``) on the same rows. Over 200 seeds the per-domain counts and the mean length
rank of the selected questions must agree within 4 standard errors of the difference of two
independent means (12 comparisons: a correct implementation fails with probability < 1e-3);
the kept set must be identical for every seed.
"""

import re
from collections import Counter

import numpy as np
import pytest

from conftest import compose_config
from s1x.selection.pools import s1k_schema_pool
from s1x.selection.stage import select
from s1x.selection.strategies import benchmark_domain_weights
from s1x.records import question_id

AIME, GPQA = "qq8933/AIME_1983_2024", "Idavidrein/gpqa"
N, UNIFORM = 500, 350  # the notebook's 1000 / 700, scaled to keep 400 runs quick
SEEDS = 200


def synthetic_rows(seed: int = 7) -> list[dict]:
    """About 1,600 rows in the 59K pool's columns plus the authors' feature columns: ten domains of
    very different sizes (two small enough to run out), AIME/GPQA concentrated in a few domains,
    lengths distinct within the pool, quality faults, solved questions and null features."""
    rng = np.random.default_rng(seed)
    sizes = {"Algebra": 400, "Number theory": 300, "Combinatorics": 250, "Geometry": 200, "Probability": 150,
             "Physics": 120, "Chemistry": 80, "Analysis": 60, "Logic": 12, "Topology": 6}
    lengths = rng.permutation(np.arange(100, 100 + 6 * sum(sizes.values()), 6))  # 100 .. ~9,560 tokens
    rows, i = [], 0
    for domain, size in sizes.items():
        for _ in range(size):
            r = rng.random()
            if domain in ("Number theory", "Combinatorics") and r < 0.25:
                source = AIME
            elif domain in ("Physics", "Chemistry", "Algebra") and r < 0.2:
                source = GPQA
            elif r < 0.35:
                source = "qfq/openaimath/Intermediate Algebra"
            else:
                source = "AI-MO/NuminaMath-CoT/amc_aime" if r < 0.6 else "AI-MO/NuminaMath-CoT/olympiads"
            question = f"Question {i} about {domain.lower()}: find the value."
            fault = rng.random()
            if fault < 0.03:
                question += " See Step1. first."
            elif fault < 0.05:
                question += " [asy]draw(A--B);[/asy]"  # kept back only for an AIME source
            elif fault < 0.06:
                question += " **Note** the answer is 3"
            solved = rng.random()
            rows.append({"question": question, "solution": "42", "source_type": source, "cot_type": "math",
                         "metadata": "{}", "cot": None, "thinking_trajectories": ["trace"], "attempt": "42",
                         "domain": domain, "gemini_length": int(lengths[i]),
                         "isgeminicorrect": bool(rng.random() < 0.7),
                         "isqwen7bcorrect": bool(solved < 0.2), "isqwen32bcorrect": bool(0.15 < solved < 0.35)})
            if rng.random() < 0.02:  # a failed grading or classification: a None in the feature dict
                rows[-1][str(rng.choice(["isqwen7bcorrect", "gemini_length", "domain"]))] = None
            i += 1
    return rows


def notebook_filter(rows: list[dict]) -> tuple[dict, list[dict], set]:
    """The notebook, cells 4-14, re-stated: (featurized_dict, geminiall, kept hashes) after the
    missing-value, quality and difficulty filters and the keep rule (no randomness here)."""
    feature_names = ("domain", "gemini_length", "isgeminicorrect", "isqwen7bcorrect", "isqwen32bcorrect")
    featurized_dict = {question_id(r["question"]): {k: r[k] for k in feature_names} for r in rows}
    geminiall = list(rows)
    # cell 4: drop NAs
    no_na = {question_id(x["question"]) for x in geminiall
             if all(v is not None for v in featurized_dict[question_id(x["question"])].values())}
    geminiall = [x for x in geminiall if question_id(x["question"]) in no_na]
    # cell 7: weird string patterns
    no_weird_string = set()
    for example in geminiall:
        question = example["question"]
        if "[asy]" not in question and "![Image]" not in question \
                and not any(f"p{i}." in question for i in range(1, 1000)) \
                and not re.search(r"\*\*(?=.*\d)[^\s\]]*\*\*", question):
            no_weird_string.add(question_id(question))
        elif "[asy]" in question:
            if "AIME" in example["source_type"]:
                no_weird_string.add(question_id(question))
    geminiall = [x for x in geminiall if question_id(x["question"]) in no_weird_string]
    # cells 9-10: drop what either Qwen solved
    geminiall = [x for x in geminiall if not (featurized_dict[question_id(x["question"])]["isqwen32bcorrect"]
                                              or featurized_dict[question_id(x["question"])]["isqwen7bcorrect"])]
    hashes = {question_id(x["question"]) for x in geminiall}
    featurized_dict = {k: v for k, v in featurized_dict.items() if k in hashes}
    # cell 14: benchmark-related questions kept directly
    selected = set()
    for example in geminiall:
        f = featurized_dict[question_id(example["question"])]
        if f["isgeminicorrect"]:
            if example["source_type"] in [GPQA, AIME]:
                selected.add(question_id(example["question"]))
            elif "qfq/openaimath" in example["source_type"] and f["gemini_length"] > 5600:
                selected.add(question_id(example["question"]))
    return featurized_dict, geminiall, selected


def notebook_sample(featurized_dict: dict, geminiall: list[dict], kept: set, rng) -> set:
    """The notebook, cells 17-21, re-stated: the selected hashes, starting from ``kept``."""
    selected = set(kept)
    featurized_dict = dict(featurized_dict)
    # cell 17: benchmark domain weights
    gpqa_domain = Counter(featurized_dict[question_id(x["question"])]["domain"] for x in geminiall if x["source_type"] == GPQA)
    aime_domain = Counter(featurized_dict[question_id(x["question"])]["domain"] for x in geminiall if x["source_type"] == AIME)
    enlarge_ratio = 0.5 * sum(aime_domain.values()) / sum(gpqa_domain.values())
    for domain in gpqa_domain:
        gpqa_domain[domain] = int(gpqa_domain[domain] * enlarge_ratio)
    benchmark_domain = gpqa_domain + aime_domain
    benchmark_domains, benchmark_weights = list(benchmark_domain.keys()), list(benchmark_domain.values())
    benchmark_weights = np.array(benchmark_weights) / sum(benchmark_weights)
    # cells 18-19
    all_domains = list({featurized_dict[question_id(x["question"])]["domain"] for x in geminiall})
    by_domain = {d: {k: v for k, v in featurized_dict.items() if v["domain"] == d} for d in all_domains}
    # cell 21: the sampling loop
    while len(selected) < N:
        if len(selected) < UNIFORM:
            random_domain = rng.choice(all_domains)
        else:
            random_domain = rng.choice(benchmark_domains, p=benchmark_weights)
        domain_examples = by_domain[random_domain]
        qhashes = list(domain_examples.keys())
        lengths = np.array([int(domain_examples[q]["gemini_length"]) for q in qhashes])
        ranks = len(lengths) - 1 - np.argsort(np.argsort(lengths))
        length_weights = np.power(2.0, -ranks)
        length_weights = length_weights / length_weights.sum()
        selected_qhash = rng.choice(qhashes, p=length_weights)
        selected.add(selected_qhash)
        by_domain[random_domain].pop(selected_qhash)
        if len(by_domain[random_domain]) == 0:
            if random_domain in all_domains:
                all_domains.remove(random_domain)
            if random_domain in benchmark_domains:
                benchmark_weights = np.delete(benchmark_weights, benchmark_domains.index(random_domain))
                benchmark_weights = benchmark_weights / benchmark_weights.sum()
                benchmark_domains.remove(random_domain)
    return selected


def _summaries(selected: set, kept: set, info: dict, domains: list[str]) -> list[float]:
    """Per-domain counts of the selection, then the mean length rank (0 = longest in its
    domain's filtered set) of the sampled (not kept) questions."""
    counts = Counter(info[h]["domain"] for h in selected)
    ranks = [info[h]["rank"] for h in selected - kept]
    return [counts[d] for d in domains] + [float(np.mean(ranks))]


@pytest.fixture(scope="module")
def paper_selection():
    sel = compose_config(["setting=paper", f"selection.n={N}", f"selection.uniform_until={UNIFORM}"]).selection
    assert list(sel.filters) == ["missing", "quality", "difficulty"]
    probes = compose_config(["setting=paper"]).pool.featurize.probes
    return sel, probes


def test_s1x_matches_the_notebook_over_200_seeds(paper_selection):
    sel, probes = paper_selection
    rows = synthetic_rows()
    pool = s1k_schema_pool(rows, probes=probes)  # the authors' feature columns, given
    assert pool[0].features["given"] == ["attempt_correct", "domain", "probe:qwen2.5-32b", "probe:qwen2.5-7b",
                                         "trace_tokens"]
    for p in pool:
        p.domain = p.features["domain"] or ""

    nb_features, nb_rows, nb_kept = notebook_filter(rows)
    # Length ranks within each domain of the filtered (candidate) set, for the rank statistic.
    _, s1x_stats = select(pool, sel, {})
    counts = {s["step"]: s["count"] for s in s1x_stats["funnel"]}
    assert counts["kept"] == len(nb_kept) and 30 < len(nb_kept) < N // 2, counts
    filtered_ids = {question_id(x["question"]) for x in nb_rows}
    filtered = [p for p in pool if p.id in filtered_ids]
    info = {}
    for d in {p.domain for p in filtered}:
        ordered = sorted((p for p in filtered if p.domain == d), key=lambda p: -p.features["trace_tokens"])
        info.update({p.id: {"domain": d, "rank": r} for r, p in enumerate(ordered)})
    domains = sorted({v["domain"] for v in info.values()})

    ours, theirs = [], []
    for seed in range(SEEDS):
        chosen, stats = select(pool, _with_seed(sel, seed), {})
        ids = {p.id for p in chosen}
        assert len(chosen) == len(ids) == N and nb_kept <= ids  # the kept set is in every selection
        assert {p.id for p in chosen[: len(nb_kept)]} == nb_kept  # ... and is exactly the notebook's
        ours.append(_summaries(ids, nb_kept, info, domains))
        selected = notebook_sample(nb_features, nb_rows, nb_kept, np.random.default_rng(10_000 + seed))
        assert len(selected) == N
        theirs.append(_summaries(selected, nb_kept, info, domains))
    ours, theirs = np.array(ours), np.array(theirs)
    names = domains + ["mean length rank"]
    for j, name in enumerate(names):
        diff = ours[:, j].mean() - theirs[:, j].mean()
        se = np.sqrt(ours[:, j].var(ddof=1) / SEEDS + theirs[:, j].var(ddof=1) / SEEDS)
        assert abs(diff) <= 4 * se + 1e-9, (name, ours[:, j].mean(), theirs[:, j].mean(), se)
    # The smallest domain runs out in every run (its removal from the lists is exercised).
    assert all(ours[:, names.index("Topology")] == sum(1 for v in info.values() if v["domain"] == "Topology"))


def test_domain_weights_equal_the_notebooks_cell_17(paper_selection):
    sel, probes = paper_selection
    rows = synthetic_rows()
    pool = {p.id: p for p in s1k_schema_pool(rows, probes=probes)}
    for p in pool.values():
        p.domain = p.features["domain"] or ""
    _, nb_rows, _ = notebook_filter(rows)
    filtered = [pool[question_id(x["question"])] for x in nb_rows]
    ours = benchmark_domain_weights(filtered, [dict(s) for s in sel.benchmark_sources], truncate=True)
    # cell 17, re-stated
    gpqa = Counter(x["domain"] for x in nb_rows if x["source_type"] == GPQA)
    aime = Counter(x["domain"] for x in nb_rows if x["source_type"] == AIME)
    ratio = 0.5 * sum(aime.values()) / sum(gpqa.values())
    combined = Counter({d: int(c * ratio) for d, c in gpqa.items()}) + aime
    total = sum(combined.values())
    assert ours.keys() == combined.keys()
    assert all(abs(ours[d] - combined[d] / total) < 1e-12 for d in combined)
    # Truncation matters here: without it the GPQA domains weigh more.
    untruncated = benchmark_domain_weights(filtered, [dict(s) for s in sel.benchmark_sources], truncate=False)
    assert any(untruncated[d] - ours[d] > 1e-3 for d in gpqa)


def _with_seed(sel, seed):
    from omegaconf import OmegaConf

    copy = OmegaConf.create(OmegaConf.to_container(sel))
    copy.seed = seed
    return copy
