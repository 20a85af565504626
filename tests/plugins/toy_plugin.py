"""A toy engine and a toy method kind, added to s1x from test files alone (docs/architecture.md,
"How to add"): ``plugins=[toy_plugin]`` imports this module, which registers both; the YAMLs
beside it (``conf/engine/toy.yaml``, ``conf/method/toy.yaml``) come in by ``hydra.searchpath``.

The engine answers every request with the same short thinking (``engine.options.words`` numbers,
a key of its own typed by :class:`ToyOptions`), ended by the end-of-turn token; it counts what it
was asked (written to ``$TOY_ENGINE_LOG``). The method kind ``toy`` writes
two cells per budget, capped at the budget and at twice it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from s1x.engines import EngineKind, engine_options, register_engine
from s1x.engines.base import GenerationOutput
from s1x.errors import require
from s1x.evaluate.methods.forced import run_forced_cells
from s1x.evaluate.methods.kinds import MethodKind, register_method_kind
from s1x.evaluate.methods.cell import Cell
from s1x.formatting import end_of_turn_id



@dataclass
class ToyOptions:
    """The toy engine's own keys (``engine.options.*``)."""

    words: int = 20  # numbers in its thinking


class ToyEngine:
    """Every request gets the same thinking text's first tokens (up to its max new tokens)."""

    def __init__(self, tokenizer, log_path: str | None, words: int):
        self.tokenizer, self.log_path = tokenizer, log_path
        self.eos_id = end_of_turn_id(tokenizer)
        thinking = "".join(f" {i}" for i in range(1, words + 1))
        self.thinking = tokenizer(thinking, add_special_tokens=False)["input_ids"]
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
    words = engine_options(engine_cfg).words
    require(words > 0, f"{where}.options.words", words, "the toy engine thinks at least one number")


def _build(engine_cfg, model_path, tokenizer) -> ToyEngine:
    return ToyEngine(tokenizer, os.environ.get("TOY_ENGINE_LOG"), engine_options(engine_cfg).words)


register_engine(EngineKind("toy", _build, _check, cache_spec=lambda spec: {"name": spec["name"], **spec["options"]},
                           options_schema=ToyOptions))


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
