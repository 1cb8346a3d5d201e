"""The ``onethread`` command run as a subprocess against a database (``run``, ``ok``, ``refused``),
the app on the same database (``app_client``) and a row count."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings

ONETHREAD = Path(sys.executable).with_name("onethread")


def run(url: str, *args: str, stdin: str | None = None, env: dict | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONETHREAD_")}
    clean.update({"ONETHREAD_DATABASE_URL": url, **(env or {})})
    return subprocess.run([str(ONETHREAD), *args], input=stdin, capture_output=True, text=True, env=clean,
                          timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    """Exit code 1, a readable 'error: ...' line naming ``words``, and no traceback."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") or "Refusing" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


@contextmanager
def app_client(url: str) -> Iterator[TestClient]:
    """The app on the same database, with the real clock like the CLI."""
    container = build(Settings(database_url=url))
    try:
        with TestClient(create_app(container=container)) as client:
            yield client
    finally:
        container.dispose()


def count(url: str, model) -> int:
    container = build(Settings(database_url=url))
    try:
        with container.sessions() as s:
            return s.scalar(select(func.count()).select_from(model))
    finally:
        container.dispose()
