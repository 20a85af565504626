"""Every command and public name DEVELOPERS.md promises exists: the module imports, the name is
there, and each ``python -m`` module is an entry (a ``__main__`` or a main guard)."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "DEVELOPERS.md").read_text()


def _names() -> list[str]:
    api = DOC[DOC.index("## Python API"):]
    return sorted(set(re.findall(r"`(s1x(?:\.\w+)+)`", api)))


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_every_public_name_exists():
    names = _names()
    assert len(names) >= 25, names  # the table was read
    missing = []
    for n in names:
        try:
            _resolve(n)
        except (ImportError, AttributeError) as e:
            missing.append(f"{n}: {e}")
    assert missing == []


def test_every_command_is_a_module_entry():
    commands = sorted(set(re.findall(r"python -m (s1x(?:\.\w+)*)", DOC)))
    assert "s1x.run" in commands and len(commands) >= 8, commands
    for c in commands:
        spec = importlib.util.find_spec(c)
        assert spec is not None, c
        if spec.submodule_search_locations:  # a package: python -m runs its __main__
            assert importlib.util.find_spec(c + ".__main__") is not None, c
        else:
            assert '__name__ == "__main__"' in Path(spec.origin).read_text(), c


def test_the_cli_keys_exist_in_the_root_schema():
    from s1x.config import RootConfig

    keys = re.findall(r"^`(\w+)`", DOC[DOC.index("## CLI keys"):], flags=re.M)
    fields = set(RootConfig.__dataclass_fields__)
    for key in ("stages", "seed", "threads", "plugins", "paths", "model", "benchmark", "method", "engine", "judge",
                "setting", "sweeps"):
        assert key in fields and key in DOC, key
    assert keys, "the CLI keys section lists keys"


def _fields(paragraph_start: str, paragraph_end: str) -> set[str]:
    files = DOC[DOC.index("## Files"):DOC.index("## Python API")]
    part = files[files.index(paragraph_start):files.index(paragraph_end)]
    return set(re.findall(r"`(\w+)`", part)) - {"results", "samples"}


def test_the_run_dir_fields_are_in_a_real_run(default_run):
    """The results.json and samples.jsonl fields the document names, in the default run's files."""
    import json

    run_dir, proc = default_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((run_dir / "results.json").read_text())
    top = _fields("`results.json`", "`results` rows")
    rows = _fields("`results` rows", "`samples.jsonl`")
    samples = _fields("`samples.jsonl`", "run dir")
    assert top and rows and samples
    assert top <= set(results), top - set(results)
    for row in results["results"]:
        assert rows <= set(row), rows - set(row)
        first = json.loads((run_dir / row["samples"]).read_text().splitlines()[0])
        assert samples <= set(first), samples - set(first)
