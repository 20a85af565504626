"""``python -m s1x.analysis <table2|table3|figure1> <dir> [options]``: regenerate a paper table or
figure from run dirs (a multirun dir or any dir above run dirs), printed and written to files."""

from __future__ import annotations

import argparse
from pathlib import Path

from s1x.analysis.collect import collect
from s1x.analysis.tables import table2, table3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s1x.analysis", description=__doc__)
    parser.add_argument("what", choices=["table2", "table3", "figure1", "figure4b"])
    parser.add_argument("dir", type=Path, help="a multirun dir or a dir holding run dirs")
    parser.add_argument("--out", type=Path, help="where to write files (default: <dir>/analysis)")
    parser.add_argument("--reference", default="s1k", help="table2: the selection the CIs compare against")
    parser.add_argument("--method", default="bf", help="table2/figure1: the method whose rows are reported")
    parser.add_argument("--benchmark", help="table3/figure4b: the benchmark (default: the first found)")
    parser.add_argument("--parallel", default="majority", help="figure4b: the parallel method (vs --method)")
    parser.add_argument("--compute-unit", type=float, default=1.0,
                        help="table3: Scaling is in accuracy points per this many thinking tokens")
    parser.add_argument("--resamples", type=int, default=10_000, help="table2: bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"{args.dir} is not a directory")
    col = collect(args.dir)
    if not col.runs:
        parser.error(f"no finished run (results.json) under {args.dir}")
    out = args.out or args.dir / "analysis"
    bench = args.benchmark or sorted({r["benchmark"] for run in col.runs for r in run.rows()})[0]
    if args.what == "figure4b":
        from s1x.analysis.figures import figure4b

        _, points = figure4b(col, out, bench, args.method, args.parallel)
        for method, pts in points.items():
            print(f"{bench} {method}: " + ", ".join(f"({x:.1f}, {y:.1f})" for x, y in pts))
        print(f"wrote {out / f'figure4b_{bench}.png'} and its PDF")
        return 0
    if args.what == "table2":
        table = table2(col, args.reference, args.method, args.resamples, seed=args.seed)
        paths = table.write(out, "table2")
    elif args.what == "table3":
        table = table3(col, bench, args.compute_unit)
        paths = table.write(out, f"table3_{bench}")
    else:
        from s1x.analysis.figures import figure1

        _, points = figure1(col, out, args.method)
        for bench, lines in points.items():
            for label, pts in lines.items():
                print(f"{bench} {label}: " + ", ".join(f"({x:.1f}, {y:.1f})" for x, y in pts))
        print(f"wrote {out / 'figure1.png'} and {out / 'figure1.pdf'}")
        return 0
    print(table.markdown())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
