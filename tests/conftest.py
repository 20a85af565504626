"""Shared helpers: compose the real config, run the real CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from s1x.config import register_configs

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"

register_configs()


def compose_config(overrides=()):
    """Compose conf/config.yaml with ``overrides`` (Hydra's compose API)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def run_cli(args, cache_dir, run_dir, timeout=900):
    """``python -m s1x.run`` as a user types it, with its own cache and run dir."""
    env = {**os.environ, "S1X_CACHE_DIR": str(cache_dir)}
    cmd = [sys.executable, "-m", "s1x.run", *args, f"hydra.run.dir={run_dir}"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True)
def _clear_hydra():
    yield
    GlobalHydra.instance().clear()
