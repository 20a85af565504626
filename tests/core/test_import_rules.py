"""The package's import rules, checked over the source with ``ast`` (no import is executed).

The rules keep the stages apart: the analysis runs without the training stack,
graders never reach for an engine, engines know nothing of the methods, and no
library code depends on the Hydra entry point.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "s1x"

# (the modules a rule applies to, the imports they may not make, why)
RULES = [
    ("s1x", ("s1x.run",), "the Hydra entry is a thin shell; library code never imports it"),
    ("s1x.analysis", ("torch", "transformers", "s1x.engines", "s1x.evaluate.methods", "s1x.evaluate.controllers", "s1x.sft", "s1x.world"),
     "analysis reads run dirs and must run without the training stack"),
    ("s1x.grading", ("s1x.engines", "s1x.evaluate", "s1x.pipeline"),
     "graders take answers (the judge a completion function), never an engine they build"),
    ("s1x.engines", ("s1x.evaluate", "s1x.pipeline"),
     "engines serve requests; methods drive them, not the other way round"),
    ("s1x.evaluate", ("s1x.analysis",), "evaluation writes run dirs; the analysis reads them, not the other way round"),
]
EXEMPT = {"s1x.run"}  # the entry itself


def module_name(path: Path, root: Path = PACKAGE) -> str:
    """``s1x/engines/hf.py`` -> ``s1x.engines.hf`` (``__init__`` is the package)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """Every module ``source`` imports (absolute names; relative imports resolved), at any depth."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            # `from s1x import sft` imports the package s1x.sft
            out.update(f"{name}.{a.name}" for a in node.names)
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path = PACKAGE) -> list[str]:
    """One line per import that breaks a rule, for every module under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        if module in EXEMPT:
            continue
        imported = imports_of(path.read_text(), module, path.name == "__init__.py")
        for scope, banned, why in RULES:
            if not _under(module, scope):
                continue
            for name in sorted(imported):
                for b in banned:
                    if _under(name, b) and not _under(module, b):
                        found.append(f"{module} imports {name}: {why}")
    return found


def test_the_package_keeps_its_import_rules():
    assert violations() == []


def test_every_rule_covers_modules_that_exist():
    """A rule over a renamed package would pass by checking nothing."""
    names = {module_name(p) for p in PACKAGE.rglob("*.py")}
    for scope, banned, _ in RULES:
        assert any(_under(n, scope) for n in names), scope
        for b in banned:
            if b.startswith("s1x."):
                assert any(_under(n, b) for n in names), b


@pytest.mark.parametrize("module_path, source, expected", [
    ("analysis/tables.py", "import torch\n", "s1x.analysis.tables imports torch"),
    ("analysis/figures.py", "from transformers import AutoModel\n", "s1x.analysis.figures imports transformers"),
    ("analysis/stats.py", "def f():\n    from s1x.world import tasks\n", "s1x.analysis.stats imports s1x.world"),
    ("analysis/collect.py", "from s1x import sft\n", "s1x.analysis.collect imports s1x.sft"),
    ("grading/judge.py", "from s1x.engines.hf_generate import HFEngine\n",
     "s1x.grading.judge imports s1x.engines"),
    ("grading/graders.py", "from ..evaluate.methods import plan\n", "s1x.grading.graders imports s1x.evaluate.methods"),
    ("engines/hf.py", "from s1x.evaluate.controllers.rounds import run_rounds\n",
     "s1x.engines.hf imports s1x.evaluate.controllers"),
    ("engines/vllm.py", "import s1x.pipeline\n", "s1x.engines.vllm imports s1x.pipeline"),
    ("evaluate/votes.py", "from s1x.analysis.stats import pass_at_k\n", "s1x.evaluate.votes imports s1x.analysis"),
    ("selection/stage.py", "from s1x.run import main\n", "s1x.selection.stage imports s1x.run"),
])
def test_a_planted_violation_is_found(tmp_path, module_path, source, expected):
    """Copy the package, plant one bad import, and the checker names it."""
    import shutil

    root = tmp_path / "s1x"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.safetensors"))
    target = root / module_path
    target.write_text(target.read_text() + "\n" + source)
    found = violations(root)
    assert any(line.startswith(expected) for line in found), found
    assert len({line.split(":")[0] for line in found}) >= 1


def test_the_analysis_loads_without_the_training_stack():
    """Transitively too: importing every analysis module pulls in neither torch nor transformers."""
    import subprocess
    import sys

    code = ("import sys, s1x.analysis, s1x.analysis.figures, s1x.analysis.callback, s1x.analysis.lm_eval_import, "
            "s1x.analysis.__main__\n"
            "heavy = sorted(m for m in ('torch', 'transformers', 's1x.engines', 's1x.world') if m in sys.modules)\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


MAX_MODULE_LINES = 400  # one concept per file: a module past this is two concepts, split it


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"split these modules: {long}"
