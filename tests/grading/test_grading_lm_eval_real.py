"""Issue 29: a REAL lm-evaluation-harness sample log (lm-eval run offline on SmolLM2 with a local task
YAML over a local jsonl, greedy, 48 tokens, chat template, no answer format, as the issue's user did) imported with
``python -m s1x.analysis.lm_eval_import --kind math`` reports the accuracy a careful reader gives:
credit only where the response states the gold, none for restating the question."""

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lm_eval") is None,
                                reason="needs lm-eval (pip install -e '.[dev]' -c constraints.txt)")

# MATH500 rows (test/prealgebra): the three the SmolLM2 run restated, and two more.
QUESTIONS = [
    {"unique_id": "test/algebra/1", "problem": "Compute $99^2+99+1$ in your head.", "answer": "9901"},
    {"unique_id": "test/prealgebra/2", "problem": "What is $1^{(2^{235423523})}$?", "answer": "1"},
    {"unique_id": "test/prealgebra/3", "problem": "Simplify $(-k + 4) + (-2 + 3k)$.", "answer": "2k+2"},
    {"unique_id": "test/prealgebra/4", "problem": "What is $3 + 4$?", "answer": "7"},
    {"unique_id": "test/prealgebra/5", "problem": "How many sides does a hexagon have?", "answer": "6"},
]
TASK = """task: s1x_issue29
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{problem}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n\\n\\n"]
  do_sample: false
  max_gen_toks: 48
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""


def careful_reader(response: str, gold: str) -> bool:
    """What a reader gives the response, written apart from s1x's grader: the answer it ends on
    (a box, else the value after its last "answer is"/"Answer:"/"=", else its last number)
    must be the gold; an expression copied from the question is not an answer."""
    box = re.findall(r"\\boxed\{([^{}]*)\}", response)
    marked = re.split(r"(?i)answer is:?|answer:|=", response)
    if box:
        said = box[-1]
    elif not gold.isdigit():  # an expression counts only where it is stated as the answer
        said = marked[-1].strip().split("\n")[0] if len(marked) > 1 else ""
    else:
        numbers = re.findall(r"-?\d[\d,]*(?:\.\d+)?", marked[-1] if len(marked) > 1 else response)
        said = (numbers[0] if len(marked) > 1 else numbers[-1]) if numbers else ""
    return said.replace(",", "").replace(" ", "").strip("$. ") == gold.replace(" ", "")


def test_a_real_lm_eval_sample_log_imports_with_the_accuracy_a_careful_reader_gives(smollm2, tmp_path):
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "s1x_issue29.yaml").write_text(TASK.format(data=data))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    r = subprocess.run([sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
                        f"pretrained={smollm2},dtype=float32", "--tasks", "s1x_issue29", "--include_path", str(tasks),
                        "--device", "cpu", "--batch_size", str(len(QUESTIONS)), "--apply_chat_template", "--log_samples",
                        "--output_path", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    logs = list((tmp_path / "out").rglob("samples_s1x_issue29_*.jsonl"))
    assert len(logs) == 1, r.stderr[-2000:]
    lines = [json.loads(x) for x in logs[0].read_text().splitlines() if x.strip()]
    assert len(lines) == len(QUESTIONS)

    imp = subprocess.run([sys.executable, "-m", "s1x.analysis.lm_eval_import", str(logs[0]), "--kind", "math",
                          "--benchmark", "math500", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                         timeout=600)
    assert imp.returncode == 0, imp.stderr[-2000:]
    samples = [json.loads(x) for x in (tmp_path / "run/eval/math500/imported/samples.jsonl").read_text().splitlines()]
    reader = {s["id"]: careful_reader(s["response"], s["gold"]) for s in samples}
    assert {s["id"]: s["correct"] for s in samples} == reader, [(s["response"], s["gold"]) for s in samples]
    row = json.loads((tmp_path / "run/results.json").read_text())["results"][0]
    expected = sum(reader.values()) / len(QUESTIONS)
    assert row["accuracy"] == expected and f"accuracy {100 * expected:.1f}%" in imp.stdout
    assert row["unparsed_rate"] == sum(s["unparsed"] for s in samples) / len(samples)
    # No credit for a response that never states the gold.
    for s in samples:
        if s["correct"]:
            assert s["gold"].replace(" ", "") in s["response"].replace(" ", "").replace(",", "")
