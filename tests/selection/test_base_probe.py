"""A difficulty probe with ``model: base`` is the run's own base model as resolved (for SmolLM2
offline, the converted GGUF; here the tiny base): it runs, keys on the base, and the difficulty
step drops what it solved."""

import json

from conftest import run_cli

PROBE = "pool.featurize.probes=[{name: base, model: base, prompt: plain, grader: exact, max_new_tokens: 112}]"


def test_probe_of_the_run_base_model(tmp_path):
    args = ["stages=[select]", "pool.size=300", "pool.plant_duplicates=0", "pool.plant_overlaps=0", PROBE,
            "selection.n=50", "threads=1"]
    r = run_cli(args, tmp_path / "cache", tmp_path / "run", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    stats = json.loads((tmp_path / "run" / "selection_stats.json").read_text())
    difficulty = next(s for s in stats["funnel"] if s["step"] == "difficulty")
    assert difficulty["solved_by_probe"]["base"] > 0 and "probe:base" in stats["features"]["computed"]
    probes = [p for p in (tmp_path / "cache" / "probe").iterdir() if not p.name.startswith(".")]
    assert len(probes) == 1  # one probe stage entry, built from the base model the run resolved
