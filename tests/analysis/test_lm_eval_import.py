"""lm-evaluation-harness sample logs become an s1x run dir, re-graded by s1x's graders."""

import json

import pytest

from s1x.analysis import collect
from s1x.analysis.lm_eval_import import import_lm_eval, main


def _lm_eval_line(doc_id, problem, target, response, exact_match, layout="dict"):
    prompt = f"<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n"
    arguments = ({"gen_args_0": {"arg_0": prompt, "arg_1": {"max_gen_toks": 32768, "until": []}}}
                 if layout == "dict" else [[prompt, {"max_gen_toks": 32768}]])
    return {"doc_id": doc_id, "doc": {"id": 60 + doc_id, "problem": problem, "answer": target}, "target": target,
            "arguments": arguments, "resps": [[response]], "filtered_resps": [response], "filter": "none",
            "metrics": ["exact_match"], "doc_hash": "x", "prompt_hash": "y", "target_hash": "z",
            "exact_match": exact_match}


def test_import_regrades_and_is_readable_by_the_analysis(tmp_path):
    lines = [
        _lm_eval_line(0, "Find 5*5.", "25", "<|im_start|>think\n5*5=25\n<|im_start|>answer\nAnswer: $\\boxed{025}$", 0.0),
        _lm_eval_line(1, "Find 2+2.", "4", "thinking... Final Answer: 5", 0.0, layout="list"),
        _lm_eval_line(2, "Find 10/2.", "5", "so \\boxed{5}", 1.0),
    ]
    path = tmp_path / "samples_aime24_2025-01-01T00-00-00.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = import_lm_eval([path], tmp_path / "run", "integer", "aime24")
    row = res["results"][0]
    assert row["n"] == 3 and row["accuracy"] == pytest.approx(2 / 3)
    samples = [json.loads(x) for x in (tmp_path / "run" / row["samples"]).read_text().splitlines()]
    assert [s["id"] for s in samples] == ["60", "61", "62"]
    assert [s["correct"] for s in samples] == [True, False, True]  # lm-eval's exact match missed "025"
    assert samples[0]["lm_eval_metrics"] == {"exact_match": 0.0}
    assert samples[1]["prompt"].startswith("<|im_start|>user\nFind 2+2.")
    col = collect(tmp_path / "run")
    assert len(col.runs) == 1 and col.runs[0].scores(col.runs[0].rows()[0]) == {"60": 1.0, "61": 0.0, "62": 1.0}


def test_cli_and_bad_input(tmp_path, capsys):
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps(_lm_eval_line(0, "q", "B", "Answer: (B)", 1.0)) + "\n")
    assert main([str(path), "--kind", "choice", "--benchmark", "gpqa_diamond", "--out", str(tmp_path / "r")]) == 0
    assert "accuracy 100.0%" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q"}) + "\n")
    with pytest.raises(ValueError, match="not an lm-eval sample log line"):
        import_lm_eval([bad], tmp_path / "r2", "math", "x")
