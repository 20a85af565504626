"""s1x.progress: bars on a terminal, one plain line per interval anywhere else."""

import io
import logging
import os
import re

import pytest
from tqdm import tqdm
from transformers.utils import logging as hf_logging  # imported first, as in a run that set nothing

from conftest import ROOT, run_cli
from s1x import progress as P


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _lines(monkeypatch, total, steps, interval=30.0, dt=1.0, postfix=None):
    """Drive a LineProgress through ``steps`` updates of ``dt`` seconds; return what it wrote."""
    clock, written = FakeClock(), []
    bar = P.LineProgress(total, "pretrain base", unit="step", interval=interval, clock=clock)
    monkeypatch.setattr(bar, "_write", written.append)
    for _ in range(steps):
        clock.t += dt
        if postfix:
            bar.set_postfix(**postfix)
        bar.update(1)
    bar.close()
    return written


def test_one_line_per_interval_with_done_total_rate_and_eta(monkeypatch):
    # 100 steps of 1 s each, a line every 30 s: at steps 30, 60, 90, then the closing line.
    lines = _lines(monkeypatch, total=100, steps=100, postfix={"loss": "0.5000"})
    assert len(lines) == 4, lines
    assert lines[0] == "pretrain base: 30/100 (30%), 1.00 step/s, ETA 1m10s, loss=0.5000"
    assert lines[2] == "pretrain base: 90/100 (90%), 1.00 step/s, ETA 10s, loss=0.5000"
    assert lines[3] == "pretrain base: 100/100 done in 1m40s (1.00 step/s), loss=0.5000"
    assert not any("\r" in line for line in lines)


def test_slow_loops_show_seconds_per_unit_and_short_loops_stay_silent(monkeypatch):
    slow = _lines(monkeypatch, total=10, steps=10, dt=20.0)  # 20 s a step: a line every other step
    assert slow[0] == "pretrain base: 2/10 (20%), 20.0 s/step, ETA 2m40s"
    assert len(slow) == 5  # steps 2, 4, 6, 8, then the closing line (the last step writes none of its own)
    assert slow[-1] == "pretrain base: 10/10 done in 3m20s (20.0 s/step)"
    assert _lines(monkeypatch, total=10, steps=10, dt=1.0) == []  # done within one interval: nothing


def test_format_duration():
    assert [P.format_duration(s) for s in (0, 42.4, 185, 3725)] == ["0s", "42s", "3m05s", "1h02m"]


def test_terminal_gets_a_tqdm_bar_a_log_gets_lines(monkeypatch):
    monkeypatch.setattr("sys.stderr", Terminal())
    bar = P.progress(10, "probe", unit="q")
    assert isinstance(bar, tqdm)
    bar.close()
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a file or a pipe: isatty() is False
    assert isinstance(P.progress(10, "probe", unit="q"), P.LineProgress)


def test_lines_go_to_the_s1x_logger_or_else_to_stderr(monkeypatch, caplog):
    bar = P.LineProgress(4, "sft", unit="step", interval=0.0)
    with caplog.at_level(logging.INFO, logger="s1x"):
        monkeypatch.setattr(logging.getLogger("s1x"), "hasHandlers", lambda: True)
        bar.update(2)
    assert re.fullmatch(r"sft: 2/4 \(50%\), [\d.]+ step/s, ETA \d+s", caplog.records[-1].getMessage())
    monkeypatch.setattr(logging.getLogger("s1x"), "hasHandlers", lambda: False)  # a worker without logging
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    bar.update(1)
    assert err.getvalue().startswith("sft: 3/4 (75%)") and err.getvalue().endswith("\n")


def test_interval_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("S1X_PROGRESS_INTERVAL_S", "5")
    assert P.line_interval() == 5.0
    monkeypatch.setenv("S1X_PROGRESS_INTERVAL_S", "soon")
    with pytest.raises(ValueError, match="S1X_PROGRESS_INTERVAL_S"):
        P.line_interval()
    monkeypatch.delenv("S1X_PROGRESS_INTERVAL_S")
    assert P.line_interval() == P.LINE_INTERVAL_S


def test_library_bars_are_switched_off_outside_a_terminal_only(monkeypatch):
    for name in P.LIBRARY_BAR_SWITCHES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stderr", Terminal())
    P.quiet_library_bars()
    assert not any(name in os.environ for name in P.LIBRARY_BAR_SWITCHES)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "0")  # the user's own choice stays
    P.quiet_library_bars()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "0"
    assert not hf_logging.is_progress_bar_enabled()
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS")
    hf_logging.enable_progress_bar()  # leave the process as it was for the other tests


def test_a_bad_interval_stops_the_cli_before_any_work(tmp_path):
    r = run_cli([], tmp_path / "cache", tmp_path / "run", env={"S1X_PROGRESS_INTERVAL_S": "soon"})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["s1x: config error: S1X_PROGRESS_INTERVAL_S='soon' is invalid: seconds "
                                             "between progress lines, a number >= 0 (unset it for the default, 30)"]
    assert not (tmp_path / "cache").exists()


def test_only_s1x_progress_draws_bars():
    """Every loop of s1x goes through s1x.progress: no other module imports tqdm (a bar drawn
    directly would put carriage returns into SLURM logs)."""
    import ast

    offenders = []
    for path in (ROOT / "s1x").rglob("*.py"):
        if path.name == "progress.py" and path.parent.name == "s1x":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "tqdm"]
    assert offenders == []
