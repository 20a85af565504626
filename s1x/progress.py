"""Progress that fits where the output goes: bars on a terminal, plain lines in a log.

When stderr is a terminal (or a notebook), every long loop of s1x shows a tqdm
bar. Anywhere else (a SLURM log, CI, a pipe, a file) a bar would be redrawn with
carriage returns thousands of times into the log, so the loop writes one plain
line every ~30 s instead: done/total, rate and ETA. Every progress display of
s1x goes through :func:`progress`; :func:`quiet_library_bars` switches off the
bars that libraries draw on their own (transformers' weight loading, datasets,
hub downloads) when they would land in a log.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Callable

log = logging.getLogger("s1x.progress")

LINE_INTERVAL_S = 30.0  # seconds between two progress lines in a log; S1X_PROGRESS_INTERVAL_S sets another
# The libraries' own switches; set (not overridden) for this process and the processes it starts.
LIBRARY_BAR_SWITCHES = ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS")


def bars_wanted() -> bool:
    """True when progress should be drawn as bars: stderr is a terminal, or a notebook renders them."""
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def line_interval() -> float:
    """Seconds between two progress lines: ``S1X_PROGRESS_INTERVAL_S`` if set, else 30."""
    raw = os.environ.get("S1X_PROGRESS_INTERVAL_S")
    if raw is None:
        return LINE_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ValueError(f"S1X_PROGRESS_INTERVAL_S={raw!r} is invalid: seconds between progress lines, a number "
                         ">= 0 (unset it for the default, 30)")
    return value


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short enough for a log line, exact enough for an ETA."""
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class LineProgress:
    """tqdm's interface (``update``, ``set_postfix``, ``close``) writing one line per ``interval``.

    Lines go to the ``s1x.progress`` logger (Hydra sends it to the console and
    the run's log file), or straight to stderr where logging is not set up (a
    distributed SFT worker). The last step writes no line of its own: the final
    line, at close, says how long the loop took, and only if it outlived one
    interval (short loops stay silent; the stage timings cover them).
    """

    def __init__(self, total: int | None, desc: str, unit: str = "it", interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.total, self.desc, self.unit, self.clock = total, desc, unit, clock
        self.interval = line_interval() if interval is None else interval
        self.n = 0
        self.postfix = ""
        self.start = self.last = clock()
        self.closed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = self.clock()
        if now - self.last >= self.interval and not (self.total and self.n >= self.total):
            self.last = now
            self._write(self._line(now))

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        now = self.clock()
        if now - self.start >= self.interval:
            self._write(f"{self.desc}: {self.n}{self._of_total()} done in "
                        f"{format_duration(now - self.start)} ({self._rate(now)}){self._tail()}")

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _of_total(self) -> str:
        return f"/{self.total}" if self.total else ""

    def _rate(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.n / elapsed
        return f"{rate:.2f} {self.unit}/s" if rate >= 1 or rate == 0 else f"{1 / rate:.1f} s/{self.unit}"

    def _tail(self) -> str:
        return f", {self.postfix}" if self.postfix else ""

    def _line(self, now: float) -> str:
        eta = ""
        if self.total and self.n:
            remaining = (self.total - self.n) * (now - self.start) / self.n
            eta = f", ETA {format_duration(remaining)}"
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        return f"{self.desc}: {self.n}{self._of_total()}{share}, {self._rate(now)}{eta}{self._tail()}"

    def _write(self, line: str) -> None:
        if logging.getLogger("s1x").hasHandlers() and log.isEnabledFor(logging.INFO):
            log.info(line)
        else:
            print(line, file=sys.stderr, flush=True)


def progress(total: int | None, desc: str, unit: str = "it", leave: bool = False):
    """A progress display for a loop of ``total`` steps: a tqdm bar on a terminal, else a
    :class:`LineProgress`. Both take ``update(n)``, ``set_postfix(**values)`` and ``close()``."""
    if bars_wanted():
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, leave=leave, mininterval=1.0, dynamic_ncols=True)
    return LineProgress(total, desc, unit)


def quiet_library_bars() -> None:
    """Outside a terminal, switch off the bars libraries draw themselves (transformers' "Loading
    weights", datasets' map/load, hub downloads), here and in the processes this one starts.

    Called by the CLI before any stage runs; a switch the user set already is left alone."""
    if bars_wanted():
        return
    for name in LIBRARY_BAR_SWITCHES:
        os.environ.setdefault(name, "1")
    # Libraries imported already read their switch at import time: tell them directly.
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    if "datasets" in sys.modules:
        import datasets

        datasets.disable_progress_bars()
