"""The sandbox over HTTP: a served onethread on a manual clock (the ``sandbox`` fixture) and its CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ONETHREAD = str(Path(sys.executable).parent / "onethread")


START = "2030-03-04T09:00:00+00:00"  # a Monday, ahead of any real clock the server starts at


def cli(env: dict, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([ONETHREAD, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sandbox(database_url):
    env = {**os.environ, "ONETHREAD_DATABASE_URL": database_url, "ONETHREAD_CLOCK": "manual",
           "ONETHREAD_ENV": "development"}
    env.pop("ONETHREAD_TEST_DATABASE_URL", None)
    port = free_port()
    proc = subprocess.Popen([ONETHREAD, "serve", "--port", str(port), "--no-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    try:
        yield env, base
    finally:
        proc.terminate()
        proc.wait(10)
