"""A request's changes commit together before the answer is sent; a failed commit is never a 2xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from onethread.models import OutboxEvent, Party


def test_a_commit_that_fails_is_an_error_response_and_writes_nothing(app, admin, container):
    client = TestClient(app, raise_server_exceptions=False)

    def refuse(session):
        raise RuntimeError("disk full")

    event.listen(container.sessions, "before_commit", refuse)
    try:
        r = client.post("/tmf-api/party/v5/individual", json={"@type": "Individual", "givenName": "Ann"},
                        headers=admin)
    finally:
        event.remove(container.sessions, "before_commit", refuse)
    assert r.status_code == 500
    assert r.json()["@type"] == "Error"
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Party)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_change_and_its_event_commit_together(client, admin, container):
    r = client.post("/tmf-api/party/v5/individual", json={"@type": "Individual", "givenName": "Ann"}, headers=admin)
    assert r.status_code == 201
    with container.sessions() as s:
        events = s.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == r.json()["id"])).all()
    assert events == ["individual.created"]


def test_a_page_session_cannot_change_anything_from_another_site(client, uow, clock):
    from onethread.access import service as access

    with uow() as s:
        access.create_user(s, clock, username="ada.admin", display_name="Ada", role="admin",
                           password="correct horse battery")
    r = client.post("/login", data={"username": "ada.admin", "password": "correct horse battery"},
                    follow_redirects=False)
    assert r.status_code == 303
    body = {"@type": "Individual", "givenName": "Mallory"}
    evil = client.post("/tmf-api/party/v5/individual", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    same = client.post("/tmf-api/party/v5/individual", json=body, headers={"Origin": "http://testserver"})
    assert same.status_code == 201


# --- reads: nothing written but their own trail, and on SQLite no write lock while reading ------

def test_a_read_leaves_its_audit_row_and_fails_rather_than_answer_without_it(app, admin, token_for, container):
    from onethread.models import AuditEntry
    from tests.support.customer_api import make_customer

    client = TestClient(app, raise_server_exceptions=False)
    cid = make_customer(client, admin).json()["id"]
    agent = token_for("agent")
    assert client.get(f"/tmf-api/customer/v5/customer/{cid}", headers=agent).status_code == 200

    def refuse(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.startswith("INSERT INTO audit_entry"):
            raise RuntimeError("audit log unavailable")

    event.listen(container.engine, "before_cursor_execute", refuse)
    try:
        failed = client.get(f"/tmf-api/customer/v5/customer/{cid}", headers=agent)
    finally:
        event.remove(container.engine, "before_cursor_execute", refuse)
    assert failed.status_code == 500 and cid not in failed.text  # no data without its audit row
    with container.sessions() as s:
        reads = s.scalars(select(AuditEntry.actor_name).where(AuditEntry.customer_id == cid,
                                                              AuditEntry.action == "read")).all()
    assert reads.count("test-agent") == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_on_sqlite_a_read_is_not_held_up_by_a_writer_until_it_writes_its_audit_row(app, admin, token_for,
                                                                                  container, database_url):
    """A writer holds SQLite's one write lock: a read still runs its queries meanwhile (a snapshot,
    no lock), and only its audit row waits for the writer. Before, every read queued for the lock."""
    import sqlite3
    import threading

    from tests.support.customer_api import make_customer

    client = TestClient(app)
    cid = make_customer(client, admin).json()["id"]
    agent = token_for("agent")
    client.get("/healthz")
    read_ran = threading.Event()

    def watch(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.startswith("SELECT customer.") and "FROM customer" in statement:
            read_ran.set()

    writer = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the write lock, held
    event.listen(container.engine, "after_cursor_execute", watch)
    answer: dict = {}
    reader = threading.Thread(target=lambda: answer.update(
        r=client.get(f"/tmf-api/customer/v5/customer/{cid}", headers=agent)))
    try:
        reader.start()
        ran = read_ran.wait(10)
        assert reader.is_alive()  # its audit row waits for the lock
    finally:
        writer.execute("COMMIT")
        writer.close()
        reader.join(30)
        event.remove(container.engine, "after_cursor_execute", watch)
    assert ran, "the read waited for the writer before reading"
    assert answer["r"].status_code == 200 and answer["r"].json()["id"] == cid


def test_a_read_session_refuses_to_change_data_and_writes_nothing(container):
    from onethread.db.engine import WriteInRead

    with container.read_sessions() as s:
        now = container.clock.now()
        s.add(Party(id="P-READ", kind="individual", given_name="Nobody", created_at=now, updated_at=now))
        with pytest.raises(WriteInRead, match="party"):
            s.flush()
        s.rollback()
    with container.sessions() as s:
        assert s.get(Party, "P-READ") is None


def test_a_read_session_refuses_raw_writes_and_trail_rows_written_outside_its_end(container):
    from sqlalchemy import text

    from onethread.access import service as access
    from onethread.access.rules import SYSTEM
    from onethread.db.engine import WriteInRead
    from onethread.db.session import finish_read

    with container.read_sessions() as s:
        with pytest.raises(WriteInRead):
            s.execute(text("DELETE FROM party"))
        s.rollback()
    with container.read_sessions() as s:
        access.audit(s, container.clock, SYSTEM, action="read", resource_type="party", resource_id="P",
                     customer_id=None)
        with pytest.raises(RuntimeError, match="finish_read"):
            s.commit()  # the trail would be lost: only finish_read ends a read
        s.rollback()
    with container.read_sessions() as s:
        access.audit(s, container.clock, SYSTEM, action="read", resource_type="party", resource_id="P2",
                     customer_id=None)
        finish_read(s)
    from onethread.models import AuditEntry
    with container.sessions() as s:
        assert s.scalars(select(AuditEntry.resource_id).where(AuditEntry.resource_type == "party")).all() == ["P2"]
