"""A request's changes commit together before the answer is sent; a failed commit is never a 2xx."""

from __future__ import annotations

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


# --- reads: no transaction, and nothing written but their own audit row ------------------------

def _in_transaction(dbapi_connection) -> bool:
    info = getattr(dbapi_connection, "info", None)
    if info is not None and hasattr(info, "transaction_status"):  # psycopg
        return info.transaction_status.name != "IDLE"
    return dbapi_connection.in_transaction  # sqlite3


def test_a_read_takes_no_transaction_and_leaves_its_audit_row(client, admin, token_for, container):
    from onethread.models import AuditEntry
    from tests.api.test_customer_api import make_customer

    cid = make_customer(client, admin).json()["id"]
    agent = token_for("agent")
    seen: list[tuple[str, bool]] = []

    def watch(conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append((statement.split(None, 1)[0].upper(), _in_transaction(conn.connection.dbapi_connection)))

    event.listen(container.engine, "before_cursor_execute", watch)
    try:
        assert client.get(f"/tmf-api/customer/v5/customer/{cid}", headers=agent).status_code == 200
        read = list(seen)
        seen.clear()
        assert client.post("/tmf-api/party/v5/individual", json={"@type": "Individual", "givenName": "Bo"},
                           headers=admin).status_code == 201
        change = list(seen)
    finally:
        event.remove(container.engine, "before_cursor_execute", watch)
    # Every statement of the GET ran outside a transaction (no BEGIN/COMMIT round trips on
    # PostgreSQL, no write lock taken up front on SQLite); the POST ran inside one.
    assert read and not any(in_tx for _, in_tx in read), read
    assert "BEGIN" not in [verb for verb, _ in read]
    assert any(in_tx for _, in_tx in change), change
    with container.sessions() as s:
        reads = s.scalars(select(AuditEntry.actor_name).where(AuditEntry.customer_id == cid,
                                                              AuditEntry.action == "read")).all()
    assert "test-agent" in reads


def test_a_read_session_refuses_to_change_data_and_writes_nothing(container):
    import pytest

    from onethread.db.engine import WriteInRead

    with container.read_sessions() as s:
        now = container.clock.now()
        s.add(Party(id="P-READ", kind="individual", given_name="Nobody", created_at=now, updated_at=now))
        with pytest.raises(WriteInRead, match="party"):
            s.flush()
        s.rollback()
    with container.sessions() as s:
        assert s.get(Party, "P-READ") is None
