"""Pool loaders: the s1K / 59K / s1K-1.1 column schemas, local files and hub ids through one path."""

import datasets
import pytest

from s1x.selection.pools import load_pool, s1k_schema_pool
from s1x.records import question_id
from conftest import compose_config


def _s1k_rows(n=30):
    """Rows in the column schema of simplescaling/s1K and data_ablation_full59K."""
    return [
        {"solution": f"The answer is {i}.", "question": f"Problem {i}: compute {i} + 0.", "cot_type": "math",
         "source_type": "qq8933/AIME_1983_2024" if i % 3 == 0 else "AI-MO/NuminaMath-CoT/aops_forum",
         "metadata": "{}", "cot": None, "thinking_trajectories": [f"step {'x ' * i}done"], "attempt": f"{i}"}
        for i in range(n)
    ]


def test_s1k_schema_maps_every_field():
    pool = s1k_schema_pool(_s1k_rows(3))
    p = pool[2]
    assert p.id == question_id("Problem 2: compute 2 + 0.")
    assert (p.question, p.solution, p.answer, p.attempt) == ("Problem 2: compute 2 + 0.", "The answer is 2.",
                                                            "The answer is 2.", "2")
    assert p.trace == "step x x done" and p.source == "AI-MO/NuminaMath-CoT/aops_forum"
    assert p.domain == ""  # filled in by featurization (MSC classifier)


def test_s1k_11_schema_picks_deepseek_or_gemini_traces():
    rows = [{"question": "q", "solution": "s", "source_type": "src", "cot_type": "math", "metadata": "{}",
             "gemini_thinking_trajectory": "gemini thinks", "gemini_attempt": "g",
             "deepseek_thinking_trajectory": ["deepseek thinks"], "deepseek_attempt": "d"}]
    assert s1k_schema_pool(rows)[0].trace == "deepseek thinks"  # auto: s1.1 trains on R1 traces
    g = s1k_schema_pool(rows, trace_source="gemini")[0]
    assert (g.trace, g.attempt) == ("gemini thinks", "g")
    with pytest.raises(ValueError, match="trace column"):
        s1k_schema_pool([{"question": "q", "solution": "s"}])
    with pytest.raises(ValueError, match="'question'"):
        s1k_schema_pool([{"problem": "q"}])


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "saved"])
def test_local_files_load_like_the_hub(tmp_path, monkeypatch, fmt):
    rows = _s1k_rows()
    ds = datasets.Dataset.from_list(rows)
    if fmt == "parquet":
        path = tmp_path / "pool.parquet"
        ds.to_parquet(str(path))
    elif fmt == "jsonl":
        path = tmp_path / "pool.jsonl"
        ds.to_json(str(path), lines=True)
    else:
        path = tmp_path / "saved"
        ds.save_to_disk(str(path))
    from_file = load_pool(compose_config(["pool=file", f"pool.path={path}"]).pool)

    # A hub id goes through the same reader and mapping: only the row source differs.
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_list(rows))
    from_hub = load_pool(compose_config(["pool=59k"]).pool)
    assert [p.id for p in from_file] == [p.id for p in from_hub] == [question_id(r["question"]) for r in rows]
    assert [p.trace for p in from_file] == [p.trace for p in from_hub]

    # ... and both select the same problems through the same funnel and strategy.
    from s1x.selection.featurize import featurize
    from s1x.selection.funnel import curate
    from s1x.selection.strategies import select_random
    from s1x.world.tokenizer import build_tokenizer

    tok = build_tokenizer()
    picked = []
    for pool in (from_file, from_hub):
        feats = featurize(pool, tok, "exact")
        for p in pool:
            p.features.update(feats[p.id])
        _, candidates, funnel = curate(pool, ["dedup", "decontaminate", "quality"], {"b": ["Problem 3: compute 3 + 0."]})
        assert funnel.count("decontaminate") == 29  # the question that is also a benchmark question left
        picked.append([p.id for p in select_random(candidates, 10, seed=0)])
    assert picked[0] == picked[1]
