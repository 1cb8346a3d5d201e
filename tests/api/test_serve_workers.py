"""``onethread serve --workers 2`` becomes ready when its processes are slow to start (a loaded
machine): before, uvicorn killed each one 5 s after it was spawned, over and over, and the
server never answered."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ONETHREAD = Path(sys.executable).with_name("onethread")

# Every process the server spawns starts 7 s late, as on a machine busy with other work.
SLOW_START = """
import sys, time
if "spawn_main" in " ".join(getattr(sys, "orig_argv", [])):
    time.sleep(7)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_two_workers_becomes_ready_when_its_processes_start_slowly(database_url, tmp_path):
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "sitecustomize.py").write_text(SLOW_START)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONETHREAD_")}
    env.update({"ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_ENV": "test",
                "PYTHONPATH": str(tmp_path / "slow")})
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([str(ONETHREAD), "serve", "--port", str(port), "--no-worker", "--workers", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    ready = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        time.sleep(3)  # a moment more: the supervisor's pings go on after start-up
    finally:
        proc.terminate()
        proc.wait(30)
        log.seek(0)
        output = log.read()
        log.close()
    assert ready is not None and ready.status_code == 200, output[-3000:]
    assert output.count("Application startup complete") >= 2, output[-3000:]
    assert "died" not in output and "was not ready" not in output, output[-3000:]
