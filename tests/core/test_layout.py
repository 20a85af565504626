"""The package's layout, measured over the source with ``ast`` (nothing is imported): the floor
order of its packages, no import circles, few loose modules, no compatibility shims.

Floors, lowest first: a module may import its own package and anything on a lower floor.
An import from a lower floor to a higher one "runs back up"; the few that do are listed in
``BACK_IMPORTS`` with why, and a new one fails this test until it is removed or listed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_import_rules import PACKAGE, imports_of, module_name  # noqa: E402

FLOORS = [
    # 0: leaves every layer may use
    ("s1x.errors", "s1x.records", "s1x.batching", "s1x.progress", "s1x.formatting", "s1x.tracking"),
    ("s1x.cache",),  # the verified stage cache
    ("s1x.world",),  # the tiny world's generator and pretraining
    ("s1x.data", "s1x.models"),  # datasets and models, by hub id or file
    ("s1x.grading",),
    ("s1x.engines",),
    ("s1x.selection", "s1x.sft"),  # stages: neither imports the other
    ("s1x.evaluate",),
    ("s1x.analysis",),  # reads run dirs
    ("s1x.config",),  # registers every stage's schema; dispatches every stage's checks
    ("s1x.pipeline", "s1x.serve", "s1x.run", "s1x"),  # entries
]
# (importer, imported): imports that run back up, each with why it stays.
BACK_IMPORTS = {
    ("s1x.world.build_assets", "s1x.config"):
        "the maintainer's script that rebuilds the shipped base model composes the default config",
}
MAX_BACK_IMPORTS = 3
MAX_LOOSE_MODULES = 9
SHIMS = ("selection_report.py", "lm_eval_import.py", "validation.py", "preflight.py", "model_source.py",
         "cli_help.py", "rows.py", "models.py")


def floor_of(module: str) -> int:
    """The floor of ``module``: that of the longest listed prefix it is under."""
    best, floor = -1, None
    for i, names in enumerate(FLOORS):
        for n in names:
            if (module == n or module.startswith(n + ".")) and len(n) > best:
                best, floor = len(n), i
    assert floor is not None, f"{module} is on no floor: add its package to FLOORS"
    return floor


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the s1x modules it imports (names resolved to the modules that exist)."""
    mods = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    # The root package itself is no dependency: ``from s1x import records`` names it, but any
    # import of an s1x module runs its __init__ anyway.
    return {m: {r for i in imports_of(p.read_text(), m, p.name == "__init__.py") if i.startswith("s1x")
                if (r := resolve(i)) not in (None, m, "s1x")} for m, p in mods.items()}


def back_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every (importer, imported) pair across packages whose target sits on a higher floor."""
    return {(m, d) for m, deps in graph.items() for d in deps
            if _package(m) != _package(d) and floor_of(d) > floor_of(m)}


def sideways_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every (importer, imported) pair between two packages on the same floor (the entries'
    floor excepted: ``run`` calls ``pipeline``). Packages that share a floor are independent,
    e.g. selection and sft: neither imports the other."""
    entries = len(FLOORS) - 1
    return {(m, d) for m, deps in graph.items() for d in deps
            if _package(m) != _package(d) and floor_of(d) == floor_of(m) != entries}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Module import cycles (strongly connected components of more than one module); a package
    importing its own submodules (``__init__`` re-exports) is not one."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def test_no_module_import_circle():
    assert circles(import_graph()) == []


def test_imports_keep_the_floor_order():
    found = back_imports(import_graph())
    assert found <= set(BACK_IMPORTS), f"imports that run back up (remove, or list with why): {found - set(BACK_IMPORTS)}"
    assert len(found) <= MAX_BACK_IMPORTS


def test_packages_on_one_floor_do_not_import_each_other():
    assert sideways_imports(import_graph()) == set()


def test_every_package_has_a_floor():
    for m in import_graph():
        floor_of(m)


def test_few_loose_modules_and_no_shims():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE_MODULES, loose
    assert not set(loose) & set(SHIMS), "a moved module's old name is gone, not kept as a shim"
    assert not (PACKAGE / "evaluate" / "engines").exists(), "engines are s1x/engines"


def _graph_with(tmp_path: Path, module_path: str, source: str) -> dict[str, set[str]]:
    """The import graph of a copy of the package with ``source`` appended to one module."""
    import shutil

    root = tmp_path / "s1x"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.safetensors", "*.jsonl"))
    target = root / module_path
    target.write_text(target.read_text() + "\n" + source)
    return import_graph(root)


@pytest.mark.parametrize("module_path, source, expected", [
    ("grading/stated.py", "from s1x.grading.graders import KINDS\n", "circle"),
    ("models/loading.py", "from s1x.selection.funnel import FILTERS\n", ("s1x.models.loading", "s1x.selection.funnel")),
    ("records.py", "def f():\n    from s1x.cache import StageCache\n", ("s1x.records", "s1x.cache")),
    ("selection/funnel.py", "from s1x.sft.train import train_sft\n", ("s1x.selection.funnel", "s1x.sft.train")),
])
def test_a_planted_back_import_or_circle_is_found(tmp_path, module_path, source, expected):
    """Copy the package, plant one import, and the checks name it."""
    graph = _graph_with(tmp_path, module_path, source)
    if expected == "circle":
        assert any("s1x.grading.stated" in c for c in circles(graph))
    else:
        assert expected in (back_imports(graph) - set(BACK_IMPORTS)) | sideways_imports(graph)


def test_naming_the_root_package_is_no_back_import(tmp_path):
    """``from s1x import records`` in a low module depends on records, not on the entries' floor."""
    graph = _graph_with(tmp_path, "cache/store.py", "from s1x import records\n")
    assert "s1x.records" in graph["s1x.cache.store"]
    assert back_imports(graph) == back_imports(import_graph())
