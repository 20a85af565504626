"""A real ``transformers serve`` for the tests and the perf scripts: 127.0.0.1 only, a free port,
bounded waits, always stopped (its whole process group), its log kept in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from conftest import free_port

START_TIMEOUT_S = 300  # loading a 135M model on 2 busy cores; the server answers /health once up


@contextmanager
def transformers_serve(model_dir: str, log_path: Path, env: dict | None = None, timeout_s: float = START_TIMEOUT_S):
    """Serve ``model_dir`` (pinned: the only model) on 127.0.0.1; yields the API root (``.../v1``)."""
    port = free_port()
    cmd = [sys.executable, "-c", "from transformers.cli.transformers import main; main()", "serve", model_dir,
           "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--dtype", "auto", "--log-level", "info"]
    # No hub, no update check: the server must only ever touch the local model dir.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1", **(env or {})}
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log_path, timeout_s, "transformers serve")
        yield f"{url}/v1"
    finally:
        stop_group(proc, 20)
        log.close()


def wait_healthy(proc, url: str, log_path: Path, timeout_s: float, what: str) -> None:
    """Until ``url``/health answers 200; an error with the log's tail if ``proc`` exits or time runs out."""
    deadline = time.time() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.time() > deadline:
            raise TimeoutError(f"{what} did not answer in {timeout_s} s: {log_path.read_text()[-3000:]}")
        time.sleep(0.5)


def stop_group(proc, timeout_s: float) -> None:
    """Stop ``proc``'s process group if it still runs: SIGTERM, then SIGKILL after ``timeout_s``."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
