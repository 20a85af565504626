"""``python -m s1x.analysis <table2|table3|figure1|figure4a|figure4b|scaling|regrade> <dir> [options]``: regenerate
a paper table or figure from run dirs (a multirun dir or any dir above run dirs), printed and written to files.
``scaling`` is the s1 effect in one report: accuracy per budget, the rise with its CI, Control, Scaling,
"Wait" xN and the difference to ``--reference``, with its figure (s1x.analysis.budget_scaling).
``regrade`` (or ``--regrade`` before a table or figure) grades every run dir's samples again with the
current graders, in place, and says how many grades changed (an lm-eval import is a run dir too).
A malformed run dir is one line naming the file and the field, and exit status 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s1x.analysis.collect import collect
from s1x.analysis.inputs import AnalysisInputError


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be positive")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m s1x.analysis", description=__doc__)
    parser.add_argument("what", choices=["table2", "table3", "figure1", "figure4a", "figure4b", "scaling", "regrade"])
    parser.add_argument("dir", type=Path, help="a multirun dir or a dir holding run dirs")
    parser.add_argument("--out", type=Path, help="where to write files (default: <dir>/analysis)")
    parser.add_argument("--reference", default="s1k", help="table2/scaling: the selection the CIs compare against")
    parser.add_argument("--method", help="table2/figure1/figure4b/scaling: the (sequential) method whose rows are "
                                         "reported (default bf; figure4a: bf_extend)")
    parser.add_argument("--benchmark", help="table3/figure4b/scaling: the benchmark (default: the first found; scaling: the only one)")
    parser.add_argument("--parallel", default="majority", help="figure4b: the parallel method (vs --method)")
    parser.add_argument("--compute-unit", type=_positive(float), default=None,
                        help="table3/scaling: Scaling is in accuracy points per this many thinking tokens "
                             "(default: a power of ten from the computes' range, printed in the header)")
    parser.add_argument("--resamples", type=_positive(int), default=10_000, help="table2/scaling: bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="table2/scaling: the bootstrap's seed")
    parser.add_argument("--regrade", action="store_true",
                        help="first grade every run dir's samples again with the current graders (in place)")
    return parser


def _print_points(name: str, lines: dict) -> None:
    for label, pts in lines.items():
        print(f"{name} {label}: " + ", ".join(f"({x:.1f}, {y:.1f})" for x, y in pts))


def _regrade(col) -> None:
    """Grade every run's samples again (s1x.evaluate.regrade) and print what changed."""
    from s1x.evaluate.regrade import regrade_run_dir

    for run in col.runs:
        try:
            done = regrade_run_dir(run.path)
        except (KeyError, TypeError, ValueError) as e:
            raise AnalysisInputError(f"{run.path}: cannot re-grade ({type(e).__name__}: {e})") from None
        print(f"regraded {run.path}: {done.samples} samples, {done.changed} grades changed")


def _analyse(args) -> int:
    col = collect(args.dir)
    if not col.runs:
        raise AnalysisInputError(f"{args.dir}: no finished run (results.json) under it")
    if args.regrade or args.what == "regrade":
        _regrade(col)
        if args.what == "regrade":
            return 0
        col = collect(args.dir)
    out = args.out or args.dir / "analysis"
    bench = args.benchmark or sorted({r["benchmark"] for run in col.runs for r in run.rows()})[0]
    notes: list[str] = []
    if args.what in ("figure1", "figure4a"):
        from s1x.analysis.figures import figure1

        method = args.method or ("bf_extend" if args.what == "figure4a" else "bf")
        _, points = figure1(col, out, method, stem=args.what, notes=notes)
        for name, lines in points.items():
            _print_points(name, lines)
        written = f"{out / (args.what + '.png')} and its PDF"
    elif args.what == "scaling":
        from s1x.analysis.budget_scaling import write_scaling

        table, paths = write_scaling(col, out, benchmark=args.benchmark, method=args.method or "bf",
                                     reference=args.reference, compute_unit=args.compute_unit,
                                     n_resamples=args.resamples, seed=args.seed)
        print(table.markdown())
        written = ", ".join(str(p) for p in paths)
    elif args.what == "figure4b":
        from s1x.analysis.figures import figure4b

        _, points = figure4b(col, out, bench, args.method or "bf", args.parallel, notes=notes)
        _print_points(bench, points)
        written = f"{out / f'figure4b_{bench}.png'} and its PDF"
    else:
        from s1x.analysis.tables import table2, table3

        if args.what == "table2":
            table = table2(col, args.reference, args.method or "bf", args.resamples, seed=args.seed)
            paths = table.write(out, "table2")
        else:
            table = table3(col, bench, args.compute_unit)
            paths = table.write(out, f"table3_{bench}")
        print(table.markdown())
        written = ", ".join(str(p) for p in paths)
    notes += [f"missing cell {path}: {why}" for path, why in col.missing] if args.what.startswith("figure") else []
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {written}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _analyse(args)
    except AnalysisInputError as e:
        print(f"s1x.analysis: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
