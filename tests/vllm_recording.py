"""Helpers of the real-vLLM tests: an engine wrapper that records every request and output (the
token-for-token comparison), the equality cells, and ``python -m s1x.serve`` as a test server."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from conftest import ROOT, compose_config, free_port
from serving import stop_group, wait_healthy

SERVE_TIMEOUT_S = 400  # vLLM's CPU build loads SmolLM2 in ~45 s on 2 idle cores; CI shares them
STOP_TIMEOUT_S = 60  # s1x.serve's own grace (30 s) plus slack

# (controller, num_ignore) x budgets on the first 8 smol-arith questions: the cells.
CELLS = [("rounds", 0), ("rounds", 1), ("authors", 0), ("authors", 1)]
BUDGETS = [16, 64]
N_QUESTIONS = 8


class Recording:
    """``engine`` with every ``generate_requests`` call recorded as (prompt ids, token ids, finish,
    stop id, cached prompt tokens) per output; everything else is the engine's."""

    def __init__(self, engine):
        self.engine = engine
        self.log: list[dict] = []

    def __getattr__(self, name):
        if name == "generate":  # one_pass is HF-only; every cell here names its controller
            raise AttributeError(name)
        return getattr(self.engine, name)

    def generate_requests(self, requests, desc: str = "generate"):
        outs = self.engine.generate_requests(requests, desc=desc)
        for req, samples in zip(requests, outs):
            for o in samples:
                self.log.append({"prompt": list(req.prompt_ids), "max": req.max_new_tokens, "ids": list(o.token_ids),
                                 "finish": o.finish_reason, "stop_id": o.stop_id,
                                 "cached": (o.meta or {}).get("cached_prompt_tokens")})
        return outs


def smol_questions():
    from s1x.data.benchmarks import load_benchmark

    return load_benchmark(compose_config(["setting=smol"]).benchmark["smol-arith"])[:N_QUESTIONS]


def run_cells(engine, tmp: Path, cells=CELLS, extra=()) -> dict:
    """Every cell through the evaluate stage's evaluator: {cell: (requests log, samples by budget)}."""
    import json

    from s1x.evaluate.evaluator import evaluate_benchmark

    questions = smol_questions()
    out = {}
    for controller, num_ignore in cells:
        rec = Recording(engine)
        method = compose_config(["setting=smol", "method=bf", f"method.budgets={BUDGETS}",
                                 f"method.controller={controller}", f"method.num_ignore={num_ignore}", *extra]).method
        d = tmp / f"{controller}-{num_ignore}"
        rows = evaluate_benchmark(rec, engine.tokenizer, questions, "smol-arith", method, 0, d)
        samples = {r["budget"]: [json.loads(x) for x in (d / r["samples"]).read_text().splitlines()] for r in rows}
        out[(controller, num_ignore)] = (rec.log, samples)
    return out


def differences(a: dict, b: dict) -> list[str]:
    """Every request or sample where two runs of :func:`run_cells` differ (empty: token-identical)."""
    diffs = []
    for cell in a:
        (log_a, sa), (log_b, sb) = a[cell], b[cell]
        if len(log_a) != len(log_b):
            diffs.append(f"{cell}: {len(log_a)} vs {len(log_b)} requests")
        for k, (x, y) in enumerate(zip(log_a, log_b)):
            for field in ("prompt", "max", "ids", "finish", "stop_id"):
                if x[field] != y[field]:
                    diffs.append(f"{cell} request {k}: {field} {x[field]} != {y[field]}")
        for budget in sa:
            for s, t in zip(sa[budget], sb[budget]):
                for field in ("response", "segments", "rounds", "thinking_tokens", "extracted"):
                    if s[field] != t[field]:
                        diffs.append(f"{cell} budget {budget} question {s['id']}: {field} differs")
    return diffs


@contextmanager
def s1x_serve(model: str, log_path: Path, *args: str):
    """``python -m s1x.serve --model MODEL`` on 127.0.0.1 and a free port: yields (API root, process).
    Bounded waits; stopped (SIGTERM, then SIGKILL of its group) unless the test stopped it."""
    port = free_port()
    cmd = [sys.executable, "-m", "s1x.serve", "--model", model, "--port", str(port), "--dtype", "float32", *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"}
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log_path, SERVE_TIMEOUT_S, "s1x.serve")
        yield f"{url}/v1", proc
    finally:
        stop_group(proc, STOP_TIMEOUT_S)
        log.close()
