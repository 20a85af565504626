"""One object per method kind (``method.kind``), looked up by name: what the planner, the
evaluator, the authors' protocol and the config checks ask of a method, instead of switching on
its name.

A :class:`MethodKind` says which cells the method writes (one results row each), how s1x runs
them under its own controllers (``one_pass``/``rounds``), what the authors' protocol appends and
caps for each cell, what it checks in the config, and which trained trace format its prompt
statement needs. Built-in kinds live in :mod:`~s1x.evaluate.methods.forced` (none, bf, tcc,
tcc_bf, scc, scc_bf, ccc) and :mod:`~s1x.evaluate.methods.sampled` (rs, majority), imported
when first named; a new kind is one module that calls :func:`register_method_kind` (loaded with
``plugins=[module]``) plus its ``conf/method/<name>.yaml``.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from s1x.records import write_json, write_jsonl
from s1x.errors import ConfigError
from s1x.evaluate.methods.cell import Cell
from s1x.evaluate.sample_records import Grading, cross_grade, summarize

BUILTIN = {**dict.fromkeys(("none", "bf", "tcc", "tcc_bf", "scc", "scc_bf", "ccc"), "s1x.evaluate.methods.forced"),
           **dict.fromkeys(("rs", "majority"), "s1x.evaluate.methods.sampled")}
_REGISTERED: dict[str, "MethodKind"] = {}


@dataclass
class MethodRun:
    """Everything one method's evaluation on one benchmark works with (the evaluator fills it)."""

    engine: object
    tokenizer: object
    questions: list
    benchmark: str
    method: object  # the MethodConfig
    cells: list[Cell]
    tokens: object  # ForcingTokens of the tokenizer
    controller: str  # one_pass | rounds | authors
    seed: int
    out_dir: Path
    extra_graders: list[str] = field(default_factory=list)
    grading: Grading = field(default_factory=Grading)
    common: dict = field(default_factory=dict)  # fields every row gets (n_skipped_context)

    def finish_cell(self, label: str, samples: list[dict], cell: Cell, extra: dict) -> dict:
        """Write a cell's samples (and disagreement report) and its results row; ``row.json``
        last, so a rerun of a killed evaluation skips exactly the cells that are complete."""
        rel = Path(label) / "samples.jsonl"
        (self.out_dir / rel.parent).mkdir(parents=True, exist_ok=True)
        disagreements = cross_grade(samples, list(self.extra_graders), self.grading)
        write_jsonl(self.out_dir / rel, samples)
        row = {**summarize(samples, self.benchmark, self.method, cell, str(rel)), **extra, **self.common,
               "controller": self.controller}
        if self.extra_graders:
            write_jsonl(self.out_dir / rel.parent / "disagreements.jsonl", disagreements)
            row["grader_disagreements"] = len(disagreements)
        write_json(self.out_dir / rel.parent / "row.json", row)
        return row

    def cell_done(self, label: str) -> dict | None:
        """The results row of a cell a killed run already finished (its ``row.json`` is written last)."""
        done = self.out_dir / label / "row.json"
        return json.loads(done.read_text()) if done.exists() else None


class MethodKind:
    """A test-time method kind. Subclasses set ``name`` and override what differs."""

    name: str = ""
    needs_budgets: bool = False  # refused without method.budgets
    shares_ignores: bool = False  # can answer after each ignore count from one generation (answer_each_ignore)
    # The countdown unit its prompt statement states (tokens | steps): the trained trace format
    # must count in it (method.trace_format / sft.trace_format), or None.
    statement_unit: str | None = None
    # Runs under method.controller=authors (the authors_* hooks below say how); a kind without it
    # is refused there, not run with the defaults.
    has_authors_protocol: bool = False

    def cells(self, method) -> list[Cell]:
        """The cells (one results row each), in results order."""
        return [Cell(method.name, None, None, None, None)]

    def check(self, method, cfg) -> None:
        """Raise :class:`~s1x.errors.ConfigError` on a value this kind cannot run (any controller)."""

    def check_authors(self, method) -> None:
        """What this kind cannot run under ``method.controller=authors``."""

    def fit_cap(self, method, cells: list[Cell], cap: int) -> int:
        """The thinking a question must have room for in the context, for a cell without its own
        cap (``cap``: method.max_thinking_tokens, or 1 under ``auto``)."""
        return cap

    def row_extra(self, method) -> dict:
        """Fields every results row of this kind adds (under either controller family)."""
        return {}

    # s1x's controllers (one_pass, rounds)
    def run(self, run: MethodRun) -> list[dict]:
        """Generate, grade and write every cell; return the results rows."""
        raise NotImplementedError(f"method kind {self.name} has no s1x driver")

    # the authors' protocol (controller=authors, s1x.evaluate.authors_eval)
    def authors_suffix(self, method, cell: Cell) -> str:
        """What their task utils append to the question for this cell."""
        return ""

    def authors_cap(self, method, cell: Cell):
        """The thinking cap of this cell (a number, or ``auto``)."""
        return method.max_thinking_tokens

    def authors_copies(self, method) -> int:
        """Generations per question (majority: its K samples)."""
        return 1

    def authors_sample_indexed(self, method) -> bool:
        """Whether each sample record carries its ``sample_index`` among the question's copies."""
        return self.authors_copies(method) > 1

    def authors_unsplit(self, method) -> bool:
        """One generation without a thinking split (no think start, no forced answer)."""
        return False

    def authors_protocol(self, method) -> dict:
        """Fields of :class:`~s1x.evaluate.controllers.authors.AuthorsProtocol` this kind changes."""
        return {}

    def authors_generate(self, run: MethodRun, ids, tokens, protocol, cap: int, desc: str):
        """The authors' runs of one cell: (runs, per-sample fields, row extra or None)."""
        from s1x.evaluate.controllers.authors import run_authors

        runs = run_authors(run.engine, ids, tokens, protocol, cap, run.seed, desc)
        return runs, [{} for _ in runs], None

    def authors_rows(self, run: MethodRun, by_label: dict[str, list[dict]], rows_extra: dict[str, dict]) -> list[dict]:
        """The results rows of the authors' graded samples (one per cell label)."""
        cells = {c.label: c for c in run.cells}
        return [run.finish_cell(label, samples, cells.get(label) or cells[label.rsplit("-x", 1)[0]],
                                rows_extra.get(label, {}))
                for label, samples in by_label.items()]


def register_method_kind(kind: MethodKind) -> MethodKind:
    """Make ``method.kind=<kind.name>`` run ``kind`` (a plugin's module calls this on import)."""
    if kind.name in BUILTIN and type(kind).__module__ != BUILTIN[kind.name]:
        raise ConfigError(f"a plugin registers a method kind named {kind.name!r}, a built-in kind's name: "
                          "choose another")
    _REGISTERED[kind.name] = kind
    return kind


def method_kind_names() -> list[str]:
    """Every kind a config may give: the built-in ones, then the registered ones."""
    return list(BUILTIN) + [n for n in _REGISTERED if n not in BUILTIN]


def method_kind(name: str) -> MethodKind:
    """The :class:`MethodKind` named ``name`` (a built-in one's module is imported here)."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in BUILTIN:
        importlib.import_module(BUILTIN[name])
        return _REGISTERED[name]
    raise ConfigError(f"method.kind={name!r} is invalid: must be one of {method_kind_names()} "
                      "(a new kind registers itself in a module named by plugins=[...])")


def plan_cells(method) -> list[Cell]:
    """The cells of ``method`` (a MethodConfig), in results order: its kind's cells."""
    return method_kind(method.kind).cells(method)


def with_label(cell: Cell, label: str) -> Cell:
    """``cell`` under another label (an ignore count's row of a prefix-shared cell)."""
    return replace(cell, label=label)
