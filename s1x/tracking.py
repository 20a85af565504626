"""Experiment tracking (config group ``logger``): what a run and a sweep send to W&B.

Everything is logged from the run dir after the pipeline has written it (the
same files the analysis reads), so a run whose stages were all cached logs the
same curves and metrics as the run that computed them:

- the resolved config, and tags from the choices (``selection=s1k``, ``method=bf``, ...);
- ``sft/*``: loss, lr, grad norm, tokens/s per logged step, from ``train_log.jsonl``;
- ``eval/<benchmark>/<cell>/*``: accuracy, thinking tokens, within budget per results row,
  plus a ``results`` table and a ``samples`` table (``samples_per_row`` per row);
- at the end of a multirun: the analysis tables (as tables) and figures (as images),
  in a run of the sweep's group with job type ``analysis``.

Runs of one multirun share a group (the sweep dir) unless ``logger.group`` is set.
The API key is read by wandb from the environment or ~/.netrc; s1x never puts it
in a config, a log line or a file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("s1x")


def _group(logger_cfg) -> str | None:
    if logger_cfg.group:
        return logger_cfg.group
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        if hc.mode == RunMode.MULTIRUN:
            return f"sweep:{hc.sweep.dir}"
    except ValueError:  # not inside a Hydra app
        pass
    return None


def _tags(logger_cfg, results: dict) -> list[str]:
    choices = results.get("choices", {})
    tags = [f"{k}={v}" for k, v in choices.items() if isinstance(v, str)]
    tags += [f"benchmark={b}" for b in choices.get("benchmark", [])]
    return [*tags, f"setting={results.get('setting')}", *logger_cfg.tags]


def _row_label(row: dict) -> str:
    return str(Path(row["samples"]).parent.name)


def log_run(logger_cfg, config: dict, results: dict, run_dir: Path) -> str | None:
    """Send one finished run to the tracker; return the tracker's run dir (None for ``none``)."""
    if logger_cfg.name == "none" or logger_cfg.mode == "disabled":
        return None
    import wandb

    run = wandb.init(project=logger_cfg.project, entity=logger_cfg.entity, group=_group(logger_cfg),
                     tags=_tags(logger_cfg, results), config=config, mode=logger_cfg.mode, dir=str(run_dir),
                     job_type="run", name=run_dir.name, reinit="finish_previous")
    train_log = run_dir / "train_log.jsonl"
    if train_log.exists():
        for line in train_log.read_text().splitlines():
            row = json.loads(line)
            metrics = {f"sft/{k}": v for k, v in row.items() if k in ("loss", "learning_rate", "grad_norm", "tokens_per_s",
                                                                    "epoch")}
            if metrics:
                run.log(metrics, step=int(row["step"]))
    columns = ["benchmark", "method", "cell", "budget", "n", "accuracy", "mean_thinking_tokens", "max_thinking_tokens",
               "within_budget_rate"]
    results_table = wandb.Table(columns=columns)
    samples_table = wandb.Table(columns=["benchmark", "cell", "id", "budget", "thinking_tokens", "correct", "extracted",
                                         "gold", "response"])
    summary = {}
    for row in results.get("results", []):
        cell = _row_label(row)
        results_table.add_data(row["benchmark"], row["method"], cell, row["budget"], row["n"], row["accuracy"],
                               row["mean_thinking_tokens"], row["max_thinking_tokens"], row["within_budget_rate"])
        for key in ("accuracy", "mean_thinking_tokens", "within_budget_rate"):
            if row.get(key) is not None:
                summary[f"eval/{row['benchmark']}/{cell}/{key}"] = row[key]
        with open(run_dir / row["samples"]) as f:
            for i, line in enumerate(f):
                if i >= logger_cfg.samples_per_row:
                    break
                s = json.loads(line)
                samples_table.add_data(row["benchmark"], cell, s["id"], s.get("budget"), s.get("thinking_tokens"),
                                       float(s["correct"]), s.get("extracted"), s.get("gold"), s.get("response", ""))
    run.log({"results": results_table, "samples": samples_table, **summary})
    for k, v in summary.items():
        run.summary[k] = v
    for stage, seconds in results.get("timings_s", {}).items():
        run.summary[f"timings_s/{stage}"] = seconds
    run_path = run.dir
    run.finish()
    return run_path


def log_analysis(logger_cfg, analysis_dir: Path, group: str | None) -> str | None:
    """Send the tables (CSV) and figures (PNG) of a multirun's ``analysis/`` as one run of its group."""
    if logger_cfg.name == "none" or logger_cfg.mode == "disabled" or not analysis_dir.is_dir():
        return None
    import csv

    import wandb

    run = wandb.init(project=logger_cfg.project, entity=logger_cfg.entity, group=logger_cfg.group or group,
                     job_type="analysis", mode=logger_cfg.mode, dir=str(analysis_dir), name="analysis",
                     tags=list(logger_cfg.tags), reinit="finish_previous")
    payload = {}
    for f in sorted(analysis_dir.glob("*.csv")):
        rows = list(csv.reader(f.open()))
        if rows:
            payload[f"analysis/{f.stem}"] = wandb.Table(columns=rows[0], data=rows[1:])
    for f in sorted(analysis_dir.glob("*.png")):
        payload[f"analysis/{f.stem}"] = wandb.Image(str(f))
    run.log(payload)
    run_path = run.dir
    run.finish()
    return run_path
