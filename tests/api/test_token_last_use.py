"""A bearer token's last use is written at most once a minute; its validity is checked on every
request (a revocation or an expiry applies at once). Audit rows keep every column."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from onethread.access import service as access
from onethread.access.rules import Principal
from onethread.models import AuditEntry
from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"


@contextmanager
def token_writes(engine, token_id):
    """Collects the UPDATE statements on this token's api_token row run while the block runs."""
    seen: list[str] = []

    def listen(conn, cursor, statement, params, *args):
        text = " ".join(statement.split()).lower()
        values = params.values() if isinstance(params, dict) else params
        if text.startswith("update api_token") and token_id in values:
            seen.append(text)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def new_token(container, name="telephony", role="integration", expires_in=None):
    with container.sessions() as s, s.begin():
        row, secret = access.create_token(s, container.security_clock, name=name, role=role,
                                          expires_in=expires_in)
        return row.id, {"Authorization": f"Bearer {secret}"}


def last_used(client, admin, token_id):
    return client.get(f"{V1}/tokens/{token_id}", headers=admin).json()["lastUsedAt"]


def test_a_busy_token_writes_its_last_use_once_a_minute_and_the_list_shows_it(client, admin, container, clock):
    token_id, bearer = new_token(container)
    assert last_used(client, admin, token_id) is None
    with token_writes(container.engine, token_id) as writes:
        assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200
        first = last_used(client, admin, token_id)
        clock.advance(timedelta(seconds=30))
        for _ in range(3):
            assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200
    assert len(writes) == 1  # four requests within a minute: one write
    assert first is not None and last_used(client, admin, token_id) == first
    clock.advance(timedelta(seconds=31))  # more than a minute since the stored last use
    with token_writes(container.engine, token_id) as writes:
        assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200
    assert len(writes) == 1
    assert last_used(client, admin, token_id) > first
    listed = {t["id"]: t["lastUsedAt"] for t in client.get(f"{V1}/tokens", headers=admin).json()}
    assert listed[token_id] == last_used(client, admin, token_id)


def test_revocation_applies_at_once_even_within_the_minute(client, admin, container, clock):
    token_id, bearer = new_token(container)
    assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200
    clock.advance(timedelta(seconds=5))
    assert client.post(f"{V1}/tokens/{token_id}/revoke", headers=admin).status_code == 200
    assert_tmf_error(client.get(f"{V1}/staff/me", headers=bearer), 401)


def test_expiry_applies_at_once_even_within_the_minute(client, container, clock):
    _, bearer = new_token(container, expires_in=timedelta(seconds=40))
    assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200  # last use written
    clock.advance(timedelta(seconds=30))
    assert client.get(f"{V1}/staff/me", headers=bearer).status_code == 200
    clock.advance(timedelta(seconds=15))  # expired 20 s after the last use was written
    assert_tmf_error(client.get(f"{V1}/staff/me", headers=bearer), 401)


def test_an_audit_row_keeps_every_column_and_rolls_back_with_its_transaction(uow, clock, container):
    actor = Principal(kind="token", id="T1", name="telephony", role="integration")
    with uow() as s:
        entry_id = access.audit(s, clock, actor, action="read", resource_type="contact", resource_id="K1",
                                customer_id="C9", channel="api", purpose="complaint follow-up",
                                detail={"fields": ["text"]})
    with uow() as s:
        row = s.get(AuditEntry, entry_id)
        assert (row.at, row.actor_type, row.actor_id, row.actor_name, row.action, row.resource_type,
                row.resource_id, row.customer_id, row.channel, row.purpose, row.detail) == (
            clock.now(), "token", "T1", "telephony", "read", "contact", "K1", "C9", "api",
            "complaint follow-up", {"fields": ["text"]})
    try:
        with uow() as s:
            access.audit(s, clock, actor, action="read", resource_type="contact", resource_id="K2",
                         customer_id="C9")
            raise RuntimeError("the request failed after the read")
    except RuntimeError:
        pass
    with uow() as s:
        rows, total = access.audit_for_customer(s, "C9")
        assert total == 1 and rows[0].id == entry_id and rows[0].detail == {"fields": ["text"]}
