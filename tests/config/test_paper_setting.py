"""setting=paper is the authors' protocol for every method (controller=authors, vLLM in float32,
their grids and answer cap), and controller=authors runs through the CLI on a real chat model on
CPU with samples whose ``prompt + response`` is the whole sequence the model saw."""

import json

from omegaconf import OmegaConf

from conftest import CONF, compose_config, run_cli
from s1x.evaluate.controllers.authors import MAX_GEN_TOKS, SUFFIX_CLASS

GRIDS = {  # eval/commands.sh
    "bf": [500, 1000, 2000, 4000, 8000, 16000],
    "rs": [3500, 4000, 5000, 6000, 8000, 16000],
    "tcc": [2048, 4096, 8192, 16384], "tcc_bf": [2048, 4096, 8192, 16384],
    "scc": [16, 32, 64, 128, 256], "scc_bf": [16, 32, 64, 128, 256],
}


def test_paper_setting_is_the_authors_protocol_for_every_method():
    from s1x.evaluate.methods.sampled import max_tries_of
    from s1x.config.checks import validate

    methods = sorted(p.stem for p in (CONF / "method").glob("*.yaml"))
    assert len(methods) == 10, methods
    for name in methods:
        cfg = compose_config(["setting=paper", f"method={name}"])
        validate(cfg)
        m = cfg.method
        assert (m.controller, cfg.engine.name, cfg.engine.dtype) == ("authors", "vllm", "float32"), name
        assert (m.max_answer_tokens, m.max_thinking_tokens) == (MAX_GEN_TOKS, "auto"), name
        if name in GRIDS:
            assert list(m.budgets) == GRIDS[name], name
    assert max_tries_of(compose_config(["setting=paper", "method=rs"]).method) is None  # no retry limit
    assert compose_config(["setting=paper", "method=rs"]).method.temperature == 1.0
    ccc = compose_config(["setting=paper", "method=ccc"]).method.classes
    assert {c.name: "\n\n" + c.text for c in ccc} == SUFFIX_CLASS
    # s1x's own controllers stay selectable, and the tiny world keeps s1x's.
    assert compose_config(["setting=paper", "method.controller=rounds"]).method.controller == "rounds"
    tiny = compose_config(["method=rs"])
    assert (tiny.method.controller, tiny.engine.name) == ("auto", "hf")
    assert tiny.method.max_tries == "auto"  # 8 waves under s1x's controllers (methods/sampled.py)


def test_cfg_job_prints_the_authors_protocol(tmp_path):
    r = run_cli(["--cfg", "job", "setting=paper", "method=tcc_bf"], tmp_path / "cache", tmp_path / "run")
    assert r.returncode == 0, r.stderr[-2000:]
    cfg = OmegaConf.create(r.stdout)
    assert (cfg.method.controller, cfg.engine.name, cfg.engine.dtype) == ("authors", "vllm", "float32")
    assert list(cfg.method.budgets) == GRIDS["tcc_bf"] and cfg.method.max_answer_tokens == 32768
    assert cfg.setting.benchmark_protocol == "authors" and cfg.setting.unparsed_choice == "A"


def test_cli_authors_run_on_smollm2_records_the_whole_sequence(smollm2, cache, tmp_path):
    """The issue's command on SmolLM2-135M-Instruct on CPU: four MATH-style rows, caps 24 and 48,
    one Wait, 12 answer tokens; each sample's prompt + response is the reference loop's sequence."""
    from authors_reference import ReferenceLLM, authors_generate
    from s1x.formatting import prompt_text
    from s1x.models import load_model, load_tokenizer

    rows = [{"problem": p, "answer": a} for p, a in [("What is 2+2?", "4"), ("Compute 3*7.", "21"),
                                                     ("What is 10 divided by 2?", "5"), ("Is 9 even?", "No")]]
    data = tmp_path / "math4.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_dir = tmp_path / "run"
    r = run_cli(["stages=[evaluate]", f"model={smollm2}", "engine.dtype=float32", "threads=1", "benchmark=math500",
                 "benchmark.math500.kind=file", f"benchmark.math500.path={data}", "method=bf",
                 "method.controller=authors", "method.budgets=[24,48]", "method.num_ignore=1",
                 "method.max_answer_tokens=12"], cache, run_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())["results"]
    assert [(x["budget"], x["n"], x["controller"]) for x in results] == [(24, 4, "authors"), (48, 4, "authors")]
    tok = load_tokenizer(smollm2)
    reference = ReferenceLLM(load_model(smollm2, "float32").eval(), tok)
    prompts = [tok(prompt_text(tok, x["problem"]), add_special_tokens=False).input_ids for x in rows]
    for row in results:
        samples = [json.loads(line) for line in open(run_dir / row["samples"])]
        want, counts = authors_generate(reference, tok, prompts, row["budget"], 1, max_gen_toks=12)
        for s, seq, count in zip(samples, want, counts):
            assert s["prompt"].endswith("<|im_start|>assistant\n<|im_start|>think")
            assert s["prompt"] + s["response"] == tok.decode(seq)
            assert s["thinking_tokens"] == count <= row["budget"]
            assert [x["phase"] for x in s["rounds"]][-1] == "answer" and all("finish_reason" in x for x in s["rounds"])


def test_cfg_job_shows_the_authors_loss_average_majority_and_judge(tmp_path):
    """Issue 25's acceptance: what --cfg job prints for the paper setting and its majority runs."""
    paper = run_cli(["--cfg", "job", "setting=paper"], tmp_path / "cache", tmp_path / "run")
    assert paper.returncode == 0, paper.stderr[-2000:]
    cfg = OmegaConf.create(paper.stdout)
    assert (cfg.sft.loss_average, cfg.judge.protocol) == ("sequence", "authors")
    assert (cfg.method.trace_format, cfg.benchmark.gpqa_diamond.choice_llm) == ("plain", False)
    maj = run_cli(["--cfg", "job", "setting=paper", "method=majority"], tmp_path / "cache", tmp_path / "run")
    assert maj.returncode == 0, maj.stderr[-2000:]
    m = OmegaConf.create(maj.stdout).method
    assert (m.split_thinking, m.maj_estimator, m.samples, m.temperature) == (False, "first_k", 64, 1.0)
    both = run_cli(["--cfg", "job", "method=majority", "method.split_thinking=false", "judge.protocol=authors"],
                   tmp_path / "cache", tmp_path / "run")
    assert both.returncode == 0, both.stderr[-2000:]
    both_cfg = OmegaConf.create(both.stdout)
    assert (both_cfg.method.split_thinking, both_cfg.judge.protocol) == (False, "authors")
    assert OmegaConf.create(run_cli(["--cfg", "job", "setting=paper", "method=scc_bf"], tmp_path / "cache",
                                    tmp_path / "run").stdout).sft.trace_format == "steps_authors"
