"""``python -m s1x.serve``: vLLM's OpenAI-compatible server for a model s1x made or names.

    python -m s1x.serve --model DIR [--host 127.0.0.1] [--port 8000] [--dtype float32] [-- VLLM_ARGS...]

``DIR`` is an s1x checkpoint (its tokenizer in ``tokenizer/`` is handed to vLLM), any
Hugging Face model folder, a ``conf/model`` option (``smollm2-135m-instruct``: resolved
and converted as ``python -m s1x.run model=...`` does, in the same stage cache) or a hub
id. The model is served under the names ``engine=openai`` looks for by default (the run's
model path, as given and absolute), so a run needs only the URL:

    python -m s1x.run stages=[evaluate] model=DIR engine=openai \\
        engine.base_url=http://127.0.0.1:8000/v1 engine.server=vllm

It runs ``python -m vllm.entrypoints.openai.api_server`` (the ``vllm`` console script of
the CPU build looks for a package named ``vllm`` and fails) in a process group of its
own, with the placement of ``engine=vllm`` (on the CPU build: eager mode, an explicit KV
cache). ``/health`` answers once the model is loaded. Ctrl-C or SIGTERM stop the server
and every process it started; the exit status is then 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")  # org/name; a path that does not exist is an error instead
STOP_GRACE_S = 30  # vLLM shuts its engine process down on SIGTERM; after this, SIGKILL


class ServeError(Exception):
    """Bad input to ``python -m s1x.serve``: one line, before anything loads."""


def resolve(model: str, cache_dir: str) -> tuple[str, list[str]]:
    """(the model folder, the names to serve it under) for ``--model``."""
    from s1x.models.source import model_config_of, resolve_model
    from s1x.errors import ConfigError

    if Path(model).is_dir():
        path = model
    elif (Path(__file__).resolve().parent.parent / "conf" / "model" / f"{model}.yaml").is_file() or HUB_ID.match(model):
        try:
            resolved = resolve_model(model_config_of(model), cache_dir)
        except ConfigError as e:
            raise ServeError(f"--model {model}: {e}") from None
        if resolved is None:
            raise ServeError(f"--model {model}: the tiny model is built by the pipeline; serve its checkpoint folder")
        path = resolved.path
    else:
        raise ServeError(f"--model {model}: no such folder, conf/model option or hub id; give a model folder")
    names = list(dict.fromkeys([model, path, str(Path(path).resolve()) if Path(path).exists() else path]))
    return path, names


def server_command(path: str, names: list[str], args, extra: list[str], platform: str) -> list[str]:
    """The ``python -m vllm.entrypoints.openai.api_server`` command line."""
    from s1x.engines.vllm import placement_kwargs
    from s1x.models import TOKENIZER_SUBDIR

    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", path,
           "--served-model-name", *names, "--host", args.host, "--port", str(args.port), "--dtype", args.dtype,
           "--seed", str(args.seed), "--enable-prefix-caching"]
    tokenizer = Path(path) / TOKENIZER_SUBDIR
    if tokenizer.is_dir():  # s1x checkpoints keep the tokenizer beside the weights, in tokenizer/
        cmd += ["--tokenizer", str(tokenizer)]
    if args.max_model_len:
        cmd += ["--max-model-len", str(args.max_model_len)]
    placement = placement_kwargs(args.device, platform, args.enforce_eager, args.cpu_kv_cache_gib, args.block_size)
    for key, value in placement.items():
        flag = "--" + key.replace("_", "-")
        cmd += [flag] if value is True else [flag, str(value)]
    return cmd + extra


def check_vllm() -> str:
    """The installed vLLM's device; a ServeError naming the install command when it cannot load."""
    from s1x.engines.vllm import INSTALL_HINT, vllm_platform

    if importlib.util.find_spec("vllm") is None:
        raise ServeError(f"vLLM is not installed: {INSTALL_HINT}")
    if importlib.util.find_spec("torchvision") is not None:
        try:
            import torchvision  # noqa: F401  (vLLM's model loading imports it through transformers)
        except Exception as e:  # a CUDA torchvision beside the CPU torch: RuntimeError, OSError
            raise ServeError(f"torchvision cannot load beside this torch ({type(e).__name__}: {e}); "
                             "pip uninstall -y torchvision torchaudio torchcodec (README, vLLM on CPU)") from None
    return vllm_platform()


def run_server(cmd: list[str]) -> int:
    """Run ``cmd`` in its own process group until it exits or this process gets SIGINT/SIGTERM;
    then stop the whole group (SIGTERM, SIGKILL after ``STOP_GRACE_S``). 0 when stopped by a signal."""
    proc = subprocess.Popen(cmd, start_new_session=True)
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)
        _signal_group(proc.pid, signal.SIGTERM)

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                rc = proc.wait(timeout=STOP_GRACE_S if stopping else None)
                break
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _signal_group(proc.pid, signal.SIGKILL)  # anything the server left behind (its engine process)
    return 0 if stopping else rc


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m s1x.serve", description=__doc__.split("\n\n")[0],
                                epilog="Arguments after -- go to vLLM's server unchanged.")
    p.add_argument("--model", required=True, help="a model folder (s1x checkpoint or HF), a conf/model option or a hub id")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--dtype", default="auto", help="auto | float32 | bfloat16 | float16 (controller=authors: float32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-model-len", type=int, default=None)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="must match the installed vLLM build (engine.device)")
    p.add_argument("--enforce-eager", default=None, action=argparse.BooleanOptionalAction,
                   help="default: on for the CPU build, off on GPUs (engine.enforce_eager)")
    p.add_argument("--cpu-kv-cache-gib", type=float, default=1.0, help="CPU build: the KV cache in GiB")
    p.add_argument("--block-size", type=int, default=None, help="KV-cache block in tokens (default: vLLM's)")
    p.add_argument("--cache-dir", default=os.environ.get("S1X_CACHE_DIR", "~/.cache/s1x"),
                   help="the stage cache a conf/model option is converted into")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser().parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        if not 0 < args.port < 65536:
            raise ServeError(f"--port {args.port}: must be 1-65535")
        if args.cpu_kv_cache_gib <= 0:
            raise ServeError(f"--cpu-kv-cache-gib {args.cpu_kv_cache_gib}: must be a positive number of GiB")
        platform = check_vllm()
        path, names = resolve(args.model, args.cache_dir)
        cmd = server_command(path, names, args, extra, platform)
    except (ServeError, ValueError) as e:
        print(f"s1x: serve error: {e}", file=sys.stderr)
        return 2
    print(f"s1x: serving {path} on http://{args.host}:{args.port}/v1 as {names[0]!r} ({platform}); evaluate with\n"
          f"  python -m s1x.run stages=[evaluate] model={args.model} engine=openai "
          f"engine.base_url=http://{args.host}:{args.port}/v1 engine.server=vllm", flush=True)
    return run_server(cmd)


if __name__ == "__main__":
    sys.exit(main())
