"""Issue 29: evaluations graded under the old rule are re-graded from their samples (not served, not
regenerated), and ``python -m s1x.analysis regrade`` re-grades a run dir and says how many grades changed."""

import json

import pytest

from conftest import compose_config
from s1x.cache import StageCache, StageRunner
from s1x.records import write_json, write_jsonl

# Under the old rule (the last expression anywhere) both restated questions were correct.
OLD_SAMPLES = [
    {"id": "q1", "question": "What is $2^{10}$?", "answer_text": "Let me compute $2^{10}$ step by step.",
     "gold": "1024", "grader": "math", "correct": True, "extracted": "2^{10}"},
    {"id": "q2", "question": "What is $12 \\times 12$?", "answer_text": "We need $12 \\times 12$.",
     "gold": "144", "grader": "math", "correct": True, "extracted": "12 \\times 12"},
    {"id": "q3", "question": "What is 3+4?", "answer_text": "<|im_start|>answer\nAnswer: 7<|im_end|>",
     "gold": "7", "grader": "integer", "correct": True, "extracted": "7"},
    {"id": "q4", "question": "Name it", "answer_text": "I am not sure.", "gold": "5", "grader": "integer",
     "correct": False, "extracted": "I am not sure."},
]


def _majority_samples():
    # Two samples per question; the old rule voted the restated expression in for q1.
    out = []
    for s in OLD_SAMPLES[:2]:
        out += [{**s, "sample_index": i} for i in range(2)]
    return out


def _old_entry(tmp):
    for d in ("bf-1", "majority/k1"):
        (tmp / d).mkdir(parents=True)
    write_jsonl(tmp / "bf-1" / "samples.jsonl", OLD_SAMPLES)
    bf_row = {"benchmark": "tiny-mixed", "method": "bf", "budget": 1, "n": 4, "accuracy": 0.75,
              "samples": "bf-1/samples.jsonl"}
    write_json(tmp / "bf-1" / "row.json", bf_row)
    write_jsonl(tmp / "majority" / "samples.jsonl", _majority_samples())
    write_jsonl(tmp / "majority" / "k1" / "votes.jsonl",
                [{"id": s["id"], "k": 1, "correct": 1.0, "answers": ["x", "x"], "gold": s["gold"]}
                 for s in OLD_SAMPLES[:2]])
    maj_row = {"benchmark": "tiny-mixed", "method": "majority", "budget": None, "n": 2, "accuracy": 1.0,
               "k": 1, "samples": "majority/k1/votes.jsonl"}
    write_json(tmp / "rows.json", [bf_row, maj_row])
    return {"n_questions": 4}


class _Stop(Exception):
    pass


def _stop(*args, **kwargs):
    raise _Stop


def test_an_entry_graded_under_the_old_rule_is_regraded_not_served_nor_regenerated(tmp_path, monkeypatch):
    from s1x.evaluate import stage

    cfg = compose_config(["benchmark=tiny-mixed"])
    runner = StageRunner(StageCache(tmp_path / "cache"))
    questions = {"tiny-mixed": []}
    # The entry a run before issue 29 left: the same spec under the previous evaluate version.
    spec_key = {}
    real_key = runner.cache.key

    def spy(stage_name, version, spec, inputs=None):
        spec_key[version] = real_key(stage_name, version, spec, inputs)
        return spec_key[version]

    monkeypatch.setattr(runner.cache, "key", spy)
    monkeypatch.setattr(stage, "make_engine", lambda *a, **k: pytest.fail("re-grading must not build an engine"))
    with monkeypatch.context() as m:  # learn the keys without building anything
        m.setattr(runner, "stage", _stop)
        with pytest.raises(_Stop):
            stage.evaluate_stage(cfg, runner, "model-dir", "model-id", tmp_path / "run", questions)
    runner.cache.get_or_build("evaluate", spec_key[stage.REGRADED_FROM_VERSION], _old_entry)

    rows = stage.evaluate_stage(cfg, runner, "model-dir", "model-id", tmp_path / "run", questions)
    bf, maj = rows
    assert bf["accuracy"] == 0.25 and bf["unparsed_rate"] == 0.25  # only q3 states its answer; q4 states none
    assert maj["accuracy"] == 0.0  # no restated expression is voted in any more
    entry = runner.cache.lookup("evaluate", spec_key[stage.STAGE_VERSION])
    meta = runner.cache.meta(entry)
    assert (meta["regraded_samples"], meta["grades_changed"]) == (8, 6)  # 4 bf samples + 4 majority ones
    samples = [json.loads(x) for x in (entry.path / "bf-1" / "samples.jsonl").read_text().splitlines()]
    assert [s["correct"] for s in samples] == [False, False, True, False]
    assert [s["unparsed"] for s in samples] == [False, False, False, True]
    assert json.loads((entry.path / "bf-1" / "row.json").read_text())["accuracy"] == 0.25
    # The old entry is left as it was (another s1x version may still read it).
    old = runner.cache.lookup("evaluate", spec_key[stage.REGRADED_FROM_VERSION])
    assert json.loads((old.path / "rows.json").read_text())[0]["accuracy"] == 0.75
    # A second run finds the re-graded entry.
    runner2 = StageRunner(runner.cache)
    again = stage.evaluate_stage(cfg, runner2, "model-dir", "model-id", tmp_path / "run2", questions)
    assert [r["accuracy"] for r in again] == [0.25, 0.0] and runner2.cached["evaluate"] is True


def test_analysis_regrade_rewrites_a_run_dir_and_counts_changed_grades(tmp_path, capsys):
    from s1x.analysis.__main__ import main

    run = tmp_path / "runs" / "r1"
    (run / "eval" / "tiny-mixed" / "bf-1").mkdir(parents=True)
    write_jsonl(run / "eval" / "tiny-mixed" / "bf-1" / "samples.jsonl", OLD_SAMPLES)
    row = {"benchmark": "tiny-mixed", "method": "bf", "budget": 1, "n": 4, "accuracy": 0.75,
           "mean_thinking_tokens": 10.0, "max_thinking_tokens": 10, "samples": "eval/tiny-mixed/bf-1/samples.jsonl"}
    write_json(run / "results.json", {"stages": ["evaluate"], "results": [row]})
    assert main(["regrade", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "4 samples, 2 grades changed" in out
    res = json.loads((run / "results.json").read_text())["results"][0]
    assert res["accuracy"] == 0.25 and res["unparsed_rate"] == 0.25
    assert main(["regrade", str(tmp_path / "runs")]) == 0  # idempotent: nothing changes a second time
    assert "0 grades changed" in capsys.readouterr().out


def test_analysis_regrade_rereads_an_lm_eval_import(tmp_path, capsys):
    from s1x.analysis.__main__ import main
    from s1x.analysis.lm_eval_import import import_lm_eval

    log = tmp_path / "samples_math500.jsonl"
    lines = [{"doc_id": 0, "doc": {"problem": "Compute $99^2+99+1$."}, "target": "9901",
              "resps": [["We can rewrite $99^2+99+1$ as"]]},
             {"doc_id": 1, "doc": {"problem": "What is $3+4$?"}, "target": "7", "resps": [["So the sum is 7."]]}]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "imports" / "smol"
    import_lm_eval([log], out, "math", "math500")
    samples_path = out / "eval/math500/imported/samples.jsonl"
    samples = [json.loads(x) for x in samples_path.read_text().splitlines()]
    assert [s["correct"] for s in samples] == [False, True]
    # As an import made before issue 29 left it: the restated question credited.
    samples[0]["correct"] = True
    write_jsonl(samples_path, samples)
    assert main(["regrade", str(tmp_path / "imports")]) == 0
    assert "2 samples, 1 grades changed" in capsys.readouterr().out
    assert json.loads((out / "results.json").read_text())["results"][0]["accuracy"] == 0.5


def test_previous_spec_drops_the_keys_added_since_version_6_only_at_their_defaults():
    """An evaluation the previous version made (its spec had no split_thinking, maj_estimator,
    choice_llm or judge.protocol) is found under the spec it had, and only when the new keys hold
    the values that reproduce it; a run that uses a new behaviour has no previous entry."""
    from s1x.evaluate.stage import previous_spec

    spec = {"method": {"kind": "bf", "split_thinking": True, "maj_estimator": "subsets"},
            "benchmark": {"grader": "math", "choice_llm": False}, "seed": 0,
            "judge": {"protocol": "s1x", "max_new_tokens": None}}
    assert previous_spec(spec) == {"method": {"kind": "bf"}, "benchmark": {"grader": "math"}, "seed": 0,
                                   "judge": {"max_new_tokens": 32}}
    assert spec["method"]["split_thinking"] is True  # the run's own spec is left as it is
    for part, key, value in [("method", "split_thinking", False), ("method", "maj_estimator", "first_k"),
                             ("benchmark", "choice_llm", True), ("judge", "protocol", "authors")]:
        changed = {p: dict(v) if isinstance(v, dict) else v for p, v in spec.items()}
        changed[part][key] = value
        assert previous_spec(changed) is None, (part, key)
