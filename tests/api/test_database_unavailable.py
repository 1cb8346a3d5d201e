"""When the database cannot be had in time (busy, unreachable, dropped) the answer is a 503 with
``Retry-After``, never a 500; a burst of writers on SQLite is served, not stalled; ``/readyz``
checks the database and says which check failed, ``/healthz`` stays liveness."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import anyio.to_thread
import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db import migrate
from onethread.db.engine import make_engine
from onethread.models import Party

PERSON = {"@type": "Individual", "givenName": "Ann"}
PARTY = "/tmf-api/party/v5/individual"


def _parties(container) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(Party))


def test_a_burst_of_writers_larger_than_the_thread_pool_is_served_not_stalled(app, admin, container):
    """16 requests changing data at once on a server with 2 threads. On SQLite each used to take
    the write lock in a thread, then wait for a thread to go on while the others held every
    thread waiting for the lock: all stalled until the 30 s busy timeout, then 500s."""

    async def burst() -> tuple[list[int], float]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
            started = time.monotonic()
            answers = await asyncio.gather(*(http.post(PARTY, json={**PERSON, "familyName": f"N{i}"}, headers=admin)
                                             for i in range(16)))
            return [a.status_code for a in answers], time.monotonic() - started

    # In a thread of its own: another test (the browser's) may have left an event loop running on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        statuses, took = pool.submit(asyncio.run, burst()).result()
    assert statuses == [201] * 16
    assert took < 25, f"the burst took {took:.1f} s"  # before: stalled for the 30 s busy timeout
    assert _parties(container) == 16


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_on_sqlite_a_writer_that_cannot_get_the_database_in_time_gets_503_with_retry_after(
        database_url, clock, tmp_path, admin):
    """A slow change holds the database; the next writer waits ONETHREAD_DB_WAIT_SECONDS, then is
    told to come back (a TMF Error on the API, a readable page on the pages), nothing written."""
    settings = Settings(database_url=database_url, env="test", db_wait_seconds=0.5,
                        attachments_dir=str(tmp_path / "attachments"))
    container = build(settings, clock=clock)
    app = create_app(container=container)
    inside, go_on = threading.Event(), threading.Event()

    def slow(_conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.startswith("INSERT INTO party") and not inside.is_set():
            inside.set()
            go_on.wait(60)

    event.listen(container.engine, "before_cursor_execute", slow)
    first: dict = {}
    holder = threading.Thread(target=lambda: first.update(r=TestClient(app).post(PARTY, json=PERSON, headers=admin)))
    try:
        holder.start()
        assert inside.wait(10)
        answers: dict = {}
        waiter = threading.Thread(target=lambda: answers.update(
            api=TestClient(app, raise_server_exceptions=False).post(
                PARTY, json={**PERSON, "givenName": "Bo"}, headers=admin),
            page=TestClient(app, raise_server_exceptions=False).post(
                "/login", data={"username": "nobody", "password": "not the one"})))
        waiter.start()
        waiter.join(20)  # the first change is held for 60 s: the second must not wait that out
        assert not waiter.is_alive(), "the second writer still waits for the first"
    finally:
        go_on.set()
        holder.join(30)
        event.remove(container.engine, "before_cursor_execute", slow)
    api, page = answers["api"], answers["page"]
    assert api.status_code == 503 and api.headers["retry-after"] == "1"
    assert api.json()["@type"] == "Error" and api.json()["code"] == "DATABASE_UNAVAILABLE"
    assert "busy" in api.json()["message"]
    assert page.status_code == 503 and page.headers["retry-after"] == "1"
    assert page.headers["content-type"].startswith("text/html") and "try again" in page.text
    assert first["r"].status_code == 201
    assert _parties(container) == 1  # the first change, and nothing of the one turned away
    assert TestClient(app).post(PARTY, json={**PERSON, "givenName": "Cy"}, headers=admin).status_code == 201
    container.dispose()


def _unreachable_app(url: str, tmp_path):
    settings = Settings(database_url=url, env="test", attachments_dir=str(tmp_path / "attachments"))
    container = build(settings, check_schema=False)
    return container, TestClient(create_app(container=container), raise_server_exceptions=False)


def _assert_unreachable(client: TestClient) -> None:
    bearer = {"Authorization": "Bearer ot_not_checked_the_database_is_down"}
    for answer in (client.post(PARTY, json=PERSON, headers=bearer), client.get(PARTY, headers=bearer)):
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        assert answer.json()["@type"] == "Error" and answer.json()["status"] == "503"
    page = client.post("/login", data={"username": "ada", "password": "whatever it is"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "onethread is busy" in page.text and page.headers["retry-after"] == "5"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
    database = ready.json()["checks"][0]
    assert database["name"] == "database" and database["status"] == "failed"
    assert client.get("/healthz").status_code == 200  # liveness: the process is fine


def test_postgresql_unreachable_is_503_with_retry_after_not_500(tmp_path):
    container, client = _unreachable_app("postgresql://postgres@127.0.0.1:1/onethread", tmp_path)
    try:
        _assert_unreachable(client)
        assert "cannot be reached" in client.get("/readyz").json()["checks"][0]["message"]
    finally:
        container.dispose()


def test_a_dropped_postgresql_database_is_503_and_not_ready(pg_url, tmp_path):
    url = make_url(pg_url)
    scratch = url.set(database=f"{url.database}_dropped")
    admin_url = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch.database}"')
    rendered = scratch.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    migrate.upgrade(engine)
    engine.dispose()
    container, client = _unreachable_app(rendered, tmp_path)
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"][0]["status"] == "ok"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{scratch.database}" WITH (FORCE)')
        _assert_unreachable(client)
    finally:
        container.dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')


def test_readiness_names_each_check(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert [(c["name"], c["status"]) for c in ready.json()["checks"]] == [("database", "ok"), ("channels", "ok")]
