"""Precomputed features in a pool file, the probes' prompts, and the paper's s1K funnel through
the CLI on a synthetic featurized pool that hits every notebook rule (AUTHORS_CODE.md, Selection).
"""

import json
import os
import subprocess
import sys

import datasets
import pytest

from conftest import ROOT, compose_config
from s1x.selection.featurize import featurize, probe_prompt, run_probe
from s1x.selection.pools import s1k_schema_pool
from s1x.records import question_id
from s1x.world.tokenizer import build_tokenizer

AIME, GPQA, MATH = "qq8933/AIME_1983_2024", "Idavidrein/gpqa", "qfq/openaimath/Precalculus"
NUMINA, AMC_AIME = "AI-MO/NuminaMath-CoT/olympiads", "AI-MO/NuminaMath-CoT/amc_aime"


def _row(question, source=NUMINA, domain="Algebra", length=1000, gemini=True, q7=False, q32=False, **extra):
    return {"question": question, "solution": "7", "source_type": source, "cot_type": "math", "metadata": "{}",
            "cot": None, "thinking_trajectories": ["think"], "attempt": "7", "domain": domain,
            "gemini_length": length, "isgeminicorrect": gemini, "isqwen7bcorrect": q7, "isqwen32bcorrect": q32, **extra}


def test_authors_and_s1x_feature_columns_are_given():
    probes = compose_config(["setting=paper"]).pool.featurize.probes
    authors = s1k_schema_pool([_row("q1", length=5601, q7=True), _row("q2", domain=None, gemini=None)], probes=probes)
    assert authors[0].features["given"] == ["attempt_correct", "domain", "probe:qwen2.5-32b", "probe:qwen2.5-7b",
                                            "trace_tokens"]
    assert (authors[0].features["trace_tokens"], authors[0].features["attempt_correct"]) == (5601, True)
    assert authors[0].features["probes"] == {"qwen2.5-7b": True, "qwen2.5-32b": False}
    assert authors[1].features["domain"] is None and authors[1].features["attempt_correct"] is None
    # s1x's own names; a probe by its name.
    own = {"question": "q", "thinking_trajectories": ["t"], "trace_tokens": 12, "attempt_correct": False,
           "probe_qwen2.5-7b": True}
    p = s1k_schema_pool([own], probes=probes)[0]
    assert p.features["given"] == ["attempt_correct", "probe:qwen2.5-7b", "trace_tokens"]
    with pytest.raises(ValueError, match="gemini_length.*trace_tokens"):
        s1k_schema_pool([{**own, "gemini_length": 12}])
    # Given features are not computed: no tokenizer, no grader run; missing ones are.
    feats = featurize(authors, None, "math")
    assert feats[authors[0].id] == {}
    tok = build_tokenizer()
    computed = featurize(s1k_schema_pool([{"question": "q", "solution": "", "thinking_trajectories": [""],
                                           "attempt": "x"}]), tok, "exact")
    assert list(computed.values())[0] == {"trace_tokens": None, "attempt_correct": None, "domain": "unknown"}


def test_probe_prompt_is_the_chat_template_and_assistant_header():
    tok = build_tokenizer()
    q = "sum A1 B2"
    dialog = [{"role": "user", "content": q}]
    # data/bulk_inference.py: apply_chat_template(dialog, tokenize=False) + "<|im_start|>assistant\n".
    assert probe_prompt(tok, q, "chat") == tok.apply_chat_template(dialog, tokenize=False) + "<|im_start|>assistant\n"
    assert "think" not in probe_prompt(tok, q, "chat")
    assert probe_prompt(tok, q, "plain") == f"{q}\n<|im_start|>think\n"

    seen = {}

    class FakeEngine:
        def generate(self, prompts, max_new_tokens, temperature=0.0, seed=0, desc=""):
            from s1x.engines.hf_generate import Completion

            seen.update(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
            return [Completion(tok("Answer: 7")["input_ids"], "eos", None, i) for i in range(len(prompts))]

    pool = s1k_schema_pool([_row("with solution"), {**_row("no solution"), "solution": None}])
    answers = run_probe(FakeEngine(), tok, pool, "chat", "exact", 32768, temperature=0.05, seed=3)
    assert seen == {"max_new_tokens": 32768, "temperature": 0.05, "seed": 3}
    assert [answers[p.id]["correct"] for p in pool] == [True, None]  # no reference: no grade, as the authors'


def planted_pool() -> tuple[list[dict], dict]:
    """1,600 clean fillers and one row per notebook rule; returns (rows, what each planted row tests)."""
    domains = ["Algebra", "Number theory", "Combinatorics", "Geometry"]
    rows = [_row(f"Filler question number {i}.", domain=domains[i % 4], length=100 + 3 * i) for i in range(1600)]
    # 50 fillers solved by a probe (either one drops them).
    for i in range(0, 100, 2):
        rows[i]["isqwen32bcorrect" if i % 4 else "isqwen7bcorrect"] = True
    planted = {
        # missing values: any None among the features drops the row
        "null probe": _row("Null probe answer.", q32=None),
        "null length": _row("Null length.", length=None),
        "null domain": _row("Null domain.", domain=None),
        # quality, case-sensitive substring tests
        "Step1.": _row("Do Step1. then stop."),
        "group1.": _row("In group1. count."),
        "$p1.5$": _row("A price $p1.5$ is paid."),
        "bold": _row("**Egyptian** fractions sum to 32 here."),
        "image": _row("As in ![Image](x.png)."),
        "[asy] numina": _row("Draw [asy]A--B;[/asy] now."),
        "[asy] amc_aime": _row("Draw [asy]A--C;[/asy] now.", source=AMC_AIME),
        "[ASY] numina": _row("Draw [ASY]A--D;[/ASY] now.", domain="Number theory"),  # passes: case-sensitive
        "[asy] AIME": _row("Draw [asy]A--E;[/asy] now.", source=AIME, domain="Number theory"),  # passes, kept
        # difficulty: a kept-looking AIME question solved by the 7B probe
        "AIME solved": _row("Solved AIME question.", source=AIME, domain="Number theory", q7=True),
        # keep rule
        "AIME": _row("AIME question.", source=AIME, domain="Combinatorics"),  # kept
        "GPQA": _row("GPQA question.", source=GPQA, domain="Geometry"),  # kept
        "GPQA wrong": _row("GPQA wrong answer.", source=GPQA, domain="Geometry", gemini=False),
        "MATH 5600": _row("MATH exactly 5600.", source=MATH, length=5600),  # not kept: > 5600 strictly
        "MATH 5601": _row("MATH 5601.", source=MATH, length=5601),  # kept
        "MATH wrong": _row("MATH long wrong.", source=MATH, length=9000, gemini=False),
        "amc_aime": _row("AMC question.", source=AMC_AIME, domain="Number theory"),  # not an exact AIME type
        "AIME sub": _row("AIME variant.", source=AIME + "_v2", domain="Combinatorics"),  # not exact either
    }
    return rows + list(planted.values()), planted


# The notebook's funnel on planted_pool(), counted by hand, step by step.
EXPECTED_FUNNEL = [
    ("total", 1600 + 21),
    ("missing", 1621 - 3),  # null probe, null length, null domain
    # Step1., group1., $p1.5$, bold, image, [asy] numina, [asy] amc_aime (the AIME [asy] and [ASY] pass)
    ("quality", 1618 - 7),
    ("difficulty", 1611 - 50 - 1),  # 50 solved fillers, the solved AIME question
    ("kept", 4),  # [asy] AIME, AIME, GPQA, MATH 5601
    ("selected", 1000),
]


def test_paper_funnel_on_a_featurized_pool_file_through_the_cli(tmp_path):
    rows, planted = planted_pool()
    path = tmp_path / "featurized.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(path))
    # No hub, and nothing the given features make unnecessary: a Qwen tokenizer, probe model or
    # classifier would have to come from the hub, and the hub is switched off.
    env = {**os.environ, "S1X_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "s1x.run", "-m", "stages=[select]", "setting=paper", "pool=file", f"pool.path={path}",
           "benchmark=[tiny-mixed]", "selection=s1k", "selection.seed=range(0,20)", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    kept = {question_id(planted[k]["question"]) for k in ("[asy] AIME", "AIME", "GPQA", "MATH 5601")}
    selections = []
    for i in range(20):
        res = json.loads((tmp_path / "sweep" / str(i) / "results.json").read_text())
        stats = res["selection"]
        assert [(s["step"], s["count"]) for s in stats["funnel"]] == EXPECTED_FUNNEL
        assert stats["seed"] == i and stats["n"] == 1000
        assert stats["features"] == {"given": ["attempt_correct", "domain", "probe:qwen2.5-32b", "probe:qwen2.5-7b",
                                               "trace_tokens"], "computed": []}
        steps = {s["step"]: s for s in stats["funnel"]}
        assert steps["missing"]["null_feature"] == {"domain": 1, "probe:qwen2.5-32b": 1, "trace_tokens": 1}
        assert steps["quality"]["flagged"] == {"asy": 2, "bold_number": 1, "image": 1, "numbering": 3}
        assert steps["difficulty"]["solved_by_probe"] == {"qwen2.5-32b": 25, "qwen2.5-7b": 26}
        assert steps["kept"]["per_source"] == {AIME: 2, GPQA: 1, MATH: 1}
        assert "probe" not in res["cached"]  # no probe stage: both probes are given
        ids = {json.loads(line)["id"] for line in (tmp_path / "sweep" / str(i) / "selection.jsonl").read_text().splitlines()}
        assert kept <= ids and len(ids) == 1000
        selections.append(ids)
    assert len({frozenset(s) for s in selections}) == 20  # every seed its own selection
