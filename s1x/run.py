"""Command-line entry: ``python -m s1x.run [group=option ...] [key=value ...]``.

A thin shell: Hydra composes the config, :func:`s1x.pipeline.run` does the
work. ``model=<hub id or path>`` is accepted beside the named options of the
``model`` group: it selects ``model=hub`` with ``model.name_or_path`` set.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig

from s1x import progress
from s1x.config import register_configs
from s1x.cache import CorruptEntryError
from s1x.errors import ConfigError, InputError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
log = logging.getLogger("s1x")

register_configs()


def rewrite_model_argument(argv: list[str], conf_dir: Path = CONF_DIR) -> list[str]:
    """Turn ``model=X``, X not an option of conf/model, into ``model=hub model.name_or_path=X``."""
    options = {p.stem for p in (conf_dir / "model").glob("*.yaml")}
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if key == "model" and sep and value and value not in options and "," not in value:
            out += ["model=hub", f"model.name_or_path={value}", f"model.name={value}"]
        else:
            out.append(arg)
    return out


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg) -> None:
    from s1x import pipeline

    if os.environ.get("SUBMITIT_EXECUTOR") == "slurm" and int(os.environ.get("SLURM_PROCID", "0") or 0) > 0:
        # Multi-node profiles (slurm_2x8) start one task per node; the run lives on the first
        # node, and distributed SFT reaches the others itself (srun, s1x.sft.distributed).
        return
    try:
        progress.line_interval()  # a bad S1X_PROGRESS_INTERVAL_S fails now, not at the first progress line
    except ValueError as e:
        print(f"s1x: config error: {e}", file=sys.stderr)
        sys.exit(2)
    progress.quiet_library_bars()
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    t0 = time.time()
    try:
        results = pipeline.run(cfg, out_dir)
    except InputError as e:
        print(f"s1x: input error: {e}", file=sys.stderr)
        sys.exit(2)
    except ConfigError as e:
        print(f"s1x: config error: {e}", file=sys.stderr)
        sys.exit(2)
    except CorruptEntryError as e:
        print(f"s1x: cache error: {e}", file=sys.stderr)
        sys.exit(2)
    from omegaconf import OmegaConf

    from s1x import tracking

    try:
        tracked = tracking.log_run(cfg.logger, OmegaConf.to_container(cfg, resolve=True), results, out_dir)
    except Exception as e:  # the computation is finished and written: a tracker outage must not fail the run
        tracked = None
        print(f"s1x: warning: logging to {cfg.logger.name} failed ({type(e).__name__}: {e}); the results are in "
              f"{out_dir}; log them later with logger={cfg.logger.name} and the same overrides (all stages cached)",
              file=sys.stderr)
    if tracked:
        print(f"s1x: logged to {cfg.logger.name} ({cfg.logger.mode}): {tracked}")
    timings = results["timings_s"]
    # Keys with a dot are parts of a stage (evaluate.engine_load, evaluate.generate).
    stages = ", ".join(f"{k} {'cached' if results['cached'][k] else 'computed'} ({v:.1f} s)"
                       for k, v in timings.items() if k in results["cached"])
    parts = [f"{k} {v:.1f} s" for k, v in timings.items() if k not in results["cached"]]
    stages += f" (of which {', '.join(parts)})" if parts else ""
    print(f"\ns1x: done in {time.time() - t0:.1f} s. Stages: {stages}.")
    print(f"s1x: run dir {out_dir} (results.json, samples under eval/)")


if __name__ == "__main__":
    sys.argv = [sys.argv[0]] + rewrite_model_argument(sys.argv[1:])
    main()
