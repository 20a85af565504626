"""A new engine and a new method kind added from test files alone (docs/architecture.md, "How
to add"): one module that registers both (tests/plugins/toy_plugin.py) and one YAML each
(tests/plugins/conf), brought in by ``plugins=[...]`` and ``hydra.searchpath``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
SEARCH = f"hydra.searchpath=[file://{PLUGINS / 'conf'}]"


def _env(log: Path) -> dict:
    return {"PYTHONPATH": os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")]), "TOY_ENGINE_LOG": str(log)}


def test_a_toy_engine_and_method_run_end_to_end(cache, tmp_path):
    log = tmp_path / "toy-engine.jsonl"
    args = ["stages=[evaluate]", "plugins=[toy_plugin]", "engine=toy", "method=toy", SEARCH,
            "benchmark=[tiny-mixed]", "benchmark.tiny-mixed.limit=5"]
    r = run_cli(args, cache, tmp_path / "run", env=_env(log), timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    rows = results["results"]
    # The kind's cells: each budget and twice it, with the kind's row field, on the rounds controller
    assert [row["budget"] for row in rows] == [4, 8, 8, 16]
    assert all(row["toy"] and row["kind"] == "toy" and row["controller"] == "rounds" for row in rows)
    # The engine answered: 20 thinking tokens (its options.words), cut at each cap, so every row is within budget at its cap
    for row in rows:
        assert row["n"] == 5 and row["within_budget_rate"] == 1.0
        assert row["max_thinking_tokens"] == row["budget"]
        samples = [json.loads(x) for x in (tmp_path / "run" / row["samples"]).read_text().splitlines()]
        assert {s["thinking_tokens"] for s in samples} == {row["budget"]}
    asked = [json.loads(x) for x in log.read_text().splitlines()]
    assert sum(a["requests"] for a in asked) >= 4 * 5  # at least one request per question and cell


def test_without_the_plugin_a_toy_name_is_refused_in_one_line(tmp_path):
    for name, args in (("engine.name", ["engine=toy"]), ("method.kind", ["method=toy"])):
        r = run_cli(["stages=[evaluate]", SEARCH, *args], tmp_path / "cache", tmp_path / name, timeout=300)
        assert r.returncode == 2, r.stderr[-2000:]
        assert f"{name}='toy' is invalid" in r.stderr and "plugins=[...]" in r.stderr
        assert "Traceback" not in r.stderr
    r = run_cli(["stages=[evaluate]", "plugins=[no_such_plugin]"], tmp_path / "cache", tmp_path / "missing", timeout=300)
    assert r.returncode == 2 and "cannot import 'no_such_plugin'" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args, message", [
    (["method=toy", "method.num_ignore=1"], "method.num_ignore=1 is invalid: the toy method ignores no ends"),
    # a kind that says nothing of the authors' protocol is refused there, not run with its defaults
    (["method=toy", "method.controller=authors"], "method kind toy has no authors' protocol"),
    # the engine's own keys, typed by its options schema
    (["engine=toy", "engine.options.words=0"], "engine.options.words=0 is invalid: the toy engine thinks at least"),
    (["engine=toy", "engine.options.words=many"], "engine.options is invalid for the toy engine"),
    (["engine=toy", "+engine.options.colour=red"], "engine.options is invalid for the toy engine: Key 'colour'"),
    (["engine=hf", "+engine.options.words=3"], "engine.options={'words': 3} is invalid: the hf engine takes no options"),
])
def test_a_plugins_checks_run_before_any_stage(tmp_path, cache, args, message):
    r = run_cli(["plugins=[toy_plugin]", *args, SEARCH], cache, tmp_path / "run", env=_env(tmp_path / "log"),
                timeout=300)
    assert r.returncode == 2 and message in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "run" / "results.json").exists()
