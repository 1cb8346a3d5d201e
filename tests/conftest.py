"""Test harness: every database test runs on SQLite and again on PostgreSQL.

PostgreSQL runs when ONETHREAD_TEST_DATABASE_URL points at a database (CI creates a fresh
one per run); with ONETHREAD_TEST_PG_PARTITIONS=N its tables spread by a key are hash-partitioned
into N (``onethread db upgrade --partitions N``). With ONETHREAD_REQUIRE_ALL=1 a test that would
skip fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from onethread.access import service as access
from onethread.app import create_app
from onethread.bootstrap import Container, build
from onethread.config import Settings
from onethread.db import migrate, partition
from onethread.db.base import Base
from onethread.db.engine import make_engine
from onethread.db.session import session_scope
from onethread.kernel.clock import SettableClock
from tests.support.environment import START, admin_sql, skip_or_fail

PG_URL = os.environ.get("ONETHREAD_TEST_DATABASE_URL")
PG_PARTITIONS = int(os.environ.get("ONETHREAD_TEST_PG_PARTITIONS") or 0)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The PostgreSQL test database, migrated once. Under pytest-xdist each worker gets its own
    database next to the one named (``<name>_gw0``, ...), created here and dropped at the end."""
    if not PG_URL:
        skip_or_fail("ONETHREAD_TEST_DATABASE_URL is not set (PostgreSQL tests)")
    url = make_url(Settings(database_url=PG_URL).database_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = url.set(database=f"{url.database}_{worker}")
        admin_sql(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)', f'CREATE DATABASE "{url.database}"')
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    migrate.upgrade(engine)
    if PG_PARTITIONS:  # the partitioned mode (docs/scaling.md): the same tests on hash-partitioned tables
        partition.partition(engine, PG_PARTITIONS)
    engine.dispose()
    yield rendered
    if worker:
        admin_sql(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')




@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


_EMPTIERS: dict[str, object] = {}


def _empty_all(url: str) -> None:
    """Empty every table for the next test: one round trip of DELETEs, children first (the team's
    lead is cleared first, the one cycle). On tables holding one test's rows this is several times
    faster than TRUNCATE, which gives each of the tables new files."""
    engine = _EMPTIERS.get(url)
    if engine is None:
        engine = _EMPTIERS[url] = make_engine(url)
    script = ";".join(["SET LOCAL lock_timeout = '10s'",  # a test that left a session open: fail, not hang
                       'UPDATE "team" SET lead_id = NULL']
                      + [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)])
    with engine.begin() as conn:
        conn.exec_driver_sql(script)


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "onethread.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    _empty_all(url)
    return url


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, env="test", max_body_bytes=64_000,
                    upload_max_bytes=200_000, attachments_dir=str(tmp_path / "attachments"))


@pytest.fixture
def container(settings, clock) -> Iterator[Container]:
    c = build(settings, clock=clock)
    yield c
    c.dispose()


@pytest.fixture
def session(container):
    """A session committed at the end of the test's ``with`` block: use ``uow`` for scopes."""
    with session_scope(container.sessions) as s:
        yield s


@pytest.fixture
def uow(container):
    """``with uow() as s:`` opens one committed unit of work, as an entry point would."""
    return lambda: session_scope(container.sessions)


_APPS: dict[tuple, object] = {}


@pytest.fixture
def app(container):
    """The app, bound to this test's container. One app is built per worker process for each set
    of settings its construction reads, then rebound: FastAPI builds every route's dependencies on
    an app's first request, which costs more than most tests (about 0.5 s on the CI machine)."""
    s = container.settings
    key = (s.env, s.max_body_bytes, s.upload_max_bytes)
    built = _APPS.get(key)
    if built is None:
        built = _APPS[key] = create_app(container=container)
    built.state.container = container
    return built


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def token_for(container):
    """``token_for("agent")`` -> headers with a fresh bearer token of that role."""

    def make(role: str) -> dict[str, str]:
        with session_scope(container.sessions) as s:
            _, secret = access.create_token(s, container.clock, name=f"test-{role}", role=role)
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def admin(token_for) -> dict[str, str]:
    return token_for("admin")
