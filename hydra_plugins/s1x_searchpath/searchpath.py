"""Make ``hydra/launcher=<profile>`` selectable from any working directory.

Hydra discovers this plugin in the ``hydra_plugins`` namespace package. It adds
the repository's ``launchers/`` folder to the config search path, so
``launchers/hydra/launcher/slurm.yaml`` is ``hydra/launcher=slurm``. (The
``sweeps/`` files are registered by :func:`s1x.config.register_configs`.)
"""

from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

ROOT = Path(__file__).resolve().parents[2]


class S1xSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if (ROOT / "launchers" / "hydra").is_dir():  # installed without the repository: nothing to add
            search_path.append(provider="s1x-launchers", path=f"file://{ROOT / 'launchers'}")
