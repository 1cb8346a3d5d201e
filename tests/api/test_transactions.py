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
