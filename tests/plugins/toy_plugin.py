"""A toy engine and a toy method kind, added to s1x from test files alone (docs/architecture.md,
"How to add"): ``plugins=[toy_plugin]`` imports this module, which registers both; the YAMLs
beside it (``conf/engine/toy.yaml``, ``conf/method/toy.yaml``) come in by ``hydra.searchpath``.

The engine answers every request with the same short thinking, ended by the end-of-turn token;
it counts what it was asked (written to ``$TOY_ENGINE_LOG``). The method kind ``toy`` writes
two cells per budget, capped at the budget and at twice it.
"""

from __future__ import annotations

import json
import os

from s1x.engines import EngineKind, register_engine
from s1x.engines.base import GenerationOutput
from s1x.errors import require
from s1x.evaluate.methods.forced import run_forced_cells
from s1x.evaluate.methods.kinds import MethodKind, register_method_kind
from s1x.evaluate.methods.plan import Cell
from s1x.formatting import end_of_turn_id

THINKING = " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"


class ToyEngine:
    """Every request gets the same thinking text's first tokens (up to its max new tokens)."""

    def __init__(self, tokenizer, log_path: str | None):
        self.tokenizer, self.log_path = tokenizer, log_path
        self.eos_id = end_of_turn_id(tokenizer)
        self.thinking = tokenizer(THINKING, add_special_tokens=False)["input_ids"]
        self.requests = 0

    def generate_requests(self, requests, desc: str = "generate"):
        out = []
        for r in requests:
            self.requests += 1
            ids = self.thinking[: r.max_new_tokens]
            finish = "length" if len(ids) == r.max_new_tokens else "stop"
            stop = None if finish == "length" else self.eos_id
            out.append([GenerationOutput(list(ids), self.tokenizer.decode(ids), finish, stop)] * r.n)
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(json.dumps({"desc": desc, "requests": len(requests)}) + "\n")
        return out


def _check(engine_cfg, where: str) -> None:
    require(engine_cfg.batch_size <= 1000, f"{where}.batch_size", engine_cfg.batch_size, "the toy engine takes <= 1000")


register_engine(EngineKind(
    "toy", lambda cfg, model_path, tokenizer: ToyEngine(tokenizer, os.environ.get("TOY_ENGINE_LOG")), _check,
    cache_spec=lambda spec: {"name": spec["name"]}))


class Doubled(MethodKind):
    """Budget forcing at each budget and at twice it (labels toy-B and toy-2xB)."""

    name, needs_budgets = "toy", True

    def cells(self, method) -> list[Cell]:
        return [Cell(f"{method.name}-{m}x{b}", m * b, m * b, None, m * b) for b in method.budgets for m in (1, 2)]

    def check(self, method, cfg) -> None:
        require(method.num_ignore == 0, "method.num_ignore", method.num_ignore, "the toy method ignores no ends")

    def row_extra(self, method) -> dict:
        return {"toy": True}

    def run(self, run) -> list[dict]:
        return run_forced_cells(run, self.row_extra(run.method))


register_method_kind(Doubled())
