"""The paper's sweeps and the launcher profiles compose in both settings; every cell validates."""

import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from conftest import CONF, ROOT, compose_config
from s1x.config.checks import validate

SWEEPS = {"table2": ("selection", ["s1k", "1k-random", "1k-diverse", "1k-longest", "59k-full"]),
          "table3": ("method", ["bf", "tcc", "tcc_bf", "scc", "scc_bf", "ccc", "rs"]),
          "figure1": ("method", ["bf"]),
          "figure4a": ("method", ["bf", "bf_extend"]),
          "figure4b": ("method", ["bf", "majority"]),
          "smol-scaling": ("selection", ["s1k", "1k-random"])}
LAUNCHERS = {"local": (1, 0), "slurm": (1, None), "slurm_gpu1": (1, 1), "slurm_gpu8": (1, 8), "slurm_2x8": (2, 8)}


def _hydra_config(overrides):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def test_every_sweep_file_is_listed():
    assert sorted(p.stem for p in (ROOT / "sweeps").glob("*.yaml")) == sorted(SWEEPS)


@pytest.mark.parametrize("sweep", list(SWEEPS))
@pytest.mark.parametrize("setting", ["tiny", "paper"])
def test_each_sweep_composes_and_every_cell_validates(sweep, setting):
    cfg = _hydra_config([f"sweeps={sweep}", f"setting={setting}"])
    key, values = SWEEPS[sweep]
    assert dict(cfg.hydra.sweeper.params) == {key: ",".join(values)}
    assert cfg.setting.name == setting
    for value in values:  # each cell as the sweeper will compose it
        cell = compose_config([f"sweeps={sweep}", f"setting={setting}", f"{key}={value}"])
        validate(cell)
        OmegaConf.to_container(cell, resolve=True)
        assert cell[key].name == value


@pytest.mark.parametrize("sweep", list(SWEEPS))
@pytest.mark.parametrize("setting", ["tiny", "paper"])
def test_sweep_prints_its_job_config_from_the_cli(sweep, setting, tmp_path):
    r = subprocess.run([sys.executable, "-m", "s1x.run", f"sweeps={sweep}", f"setting={setting}", "--cfg", "job"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)  # any working directory
    assert r.returncode == 0, r.stderr
    assert f"name: {setting}" in r.stdout and "stages:" in r.stdout


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_launcher_profiles_compose_with_the_cluster_names(launcher):
    cfg = _hydra_config([f"hydra/launcher={launcher}", "cluster.account=proj42", "cluster.partition=cpu",
                         "cluster.gpu_partition=gpu"])
    lc = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    nodes, gpus = LAUNCHERS[launcher]
    assert lc["nodes"] == nodes and lc["gpus_per_node"] == gpus
    assert isinstance(lc["timeout_min"], int) and lc["timeout_min"] > 0
    if launcher == "local":
        assert lc["_target_"].endswith("LocalLauncher")
        return
    assert lc["_target_"].endswith("SlurmLauncher")
    assert isinstance(lc["mem_gb"], int) and lc["account"] == "proj42"
    assert lc["partition"] == ("cpu" if launcher == "slurm" else "gpu")
    assert lc["max_num_timeout"] > 0 and lc["tasks_per_node"] == 1
    # Without a cluster config the names stay unset (SLURM's defaults apply).
    plain = OmegaConf.to_container(_hydra_config([f"hydra/launcher={launcher}"]).hydra.launcher, resolve=True)
    assert plain["account"] is None and plain["partition"] is None


def test_local_cluster_config_is_git_ignored():
    r = subprocess.run(["git", "check-ignore", "conf/local/cluster.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0
