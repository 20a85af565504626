"""A Hydra callback that regenerates the analysis when a multirun ends.

Enabled in ``conf/config.yaml`` (``hydra.callbacks.analysis``): after
``python -m s1x.run -m ...`` the sweep dir gets ``analysis/`` with Table 2 (if
the sweep trained several selections), Table 3 per benchmark, Figure 1, Figure 4a
(``bf_extend`` rows) and Figure 4b (``majority`` and ``bf`` rows), as
``python -m s1x.analysis`` would write them. It reads only the run dirs; a
failure here is logged and never fails the sweep.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback

log = logging.getLogger("s1x.analysis")


class AnalysisCallback(Callback):
    def __init__(self, enabled: bool = True, resamples: int = 10_000):
        self.enabled = enabled
        self.resamples = resamples

    def on_multirun_end(self, config, **kwargs) -> None:
        if not self.enabled:
            return
        root = Path(config.hydra.sweep.dir)
        try:
            written = write_all(root, self.resamples)
            log.info("analysis of %s: %s", root, ", ".join(str(p) for p in written) or "nothing to tabulate")
            if written and config.get("logger") is not None:
                from s1x.tracking import log_analysis

                log_analysis(config.logger, root / "analysis", f"sweep:{root}")
        except Exception as e:  # the sweep's results are on disk either way
            log.warning("analysis of %s failed: %s (rerun: python -m s1x.analysis table2 %s)", root, e, root)


def write_all(root: Path, resamples: int = 10_000) -> list[Path]:
    """Every table and figure the runs under ``root`` support, written to ``root/analysis``.

    Each one is made on its own: one that fails (a malformed run dir, a duplicate
    cell) is logged with its reason and the others are still written.
    """
    from s1x.analysis.collect import collect
    from s1x.analysis.figures import figure1, figure4b
    from s1x.analysis.tables import table2, table3

    col = collect(root)
    out = root / "analysis"
    written: list[Path] = []
    if not col.runs:
        return written
    benchmarks = sorted({row["benchmark"] for run in col.runs for row in run.rows()})
    jobs = []
    if len({r.selection for r in col.runs if r.fine_tuned}) > 1:
        jobs.append(("table2", lambda: table2(col, n_resamples=resamples).write(out, "table2")))
    for bench in benchmarks:
        jobs.append((f"table3 --benchmark {bench}", lambda b=bench: table3(col, b).write(out, f"table3_{b}")))
    for method, stem in (("bf", "figure1"), ("bf_extend", "figure4a")):
        if any(run.rows(method=method) for run in col.runs):
            jobs.append((stem, lambda m=method, s=stem: _figure(figure1, col, out, s, m, stem=s)))
    for bench in sorted({row["benchmark"] for run in col.runs for row in run.rows(method="majority")}):
        if any(run.rows(bench, "bf") for run in col.runs):
            jobs.append((f"figure4b --benchmark {bench}",
                         lambda b=bench: _figure(figure4b, col, out, f"figure4b_{b}", b)))
    for name, job in jobs:
        try:
            written += job()
        except ValueError as e:  # AnalysisInputError and refused metric inputs: one table lost, not all
            what, _, options = name.partition(" ")
            log.warning("analysis of %s: %s not written: %s (rerun: python -m s1x.analysis %s %s %s)", root, what, e,
                        what, root, options)
    return written


def _figure(draw, col, out: Path, files: str, *args, **kwargs) -> list[Path]:
    """Draw one figure, close it (a sweep may draw many), return the files it wrote (``files``.png/.pdf)."""
    import matplotlib.pyplot as plt

    fig, _ = draw(col, out, *args, **kwargs)
    plt.close(fig)
    return [out / f"{files}.png", out / f"{files}.pdf"]
