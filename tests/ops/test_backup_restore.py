"""Backup and restore (docs/operations.md), as an operator would run them, on both databases.

The database is filled through the services (the demo's five stories) and the API (customers,
contacts), backed up while the app still holds it open (SQLite: ``onethread db backup``;
PostgreSQL: ``pg_dump -Fc``), restored into a fresh file or database (a copy of the file;
``pg_restore``), and the restored one must hold the same rows in every table and serve them.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from onethread.access import service as access
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db.backup import row_counts
from onethread.db.engine import make_engine
from onethread.db.session import session_scope
from onethread.demo import loader
from tests.support.cli import ok, refused, run
from tests.support.customer_api import make_customer

CONTACT = "/tmf-api/partyInteraction/v5/partyInteraction"


def fill(client, container, admin) -> str:
    """The demo through the services, and more through the API; returns a customer id to read back."""
    with session_scope(container.sessions) as session:
        loader.load(session, container)
    customer_id = None
    for n in range(5):
        customer_id = make_customer(client, admin, given=f"Backup{n}").json()["id"]
        r = client.post(CONTACT, headers=admin, json={
            "@type": "OnethreadPartyInteraction", "direction": "inbound", "reason": "No signal",
            "description": f"contact {n} before the backup",
            "relatedChannel": [{"@type": "RelatedChannel", "role": "interactionChannel",
                                "channel": {"@type": "ChannelRef", "id": "phone"}}],
            "relatedParty": [{"@type": "RelatedPartyRefOrPartyRoleRef", "role": "customer",
                              "partyOrPartyRole": {"@type": "PartyRef", "id": customer_id}}]})
        assert r.status_code == 201, r.text
    return customer_id


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return row_counts(engine)
    finally:
        engine.dispose()


def serves(url: str, customer_id: str) -> None:
    container = build(Settings(database_url=url, env="test"))
    try:
        with TestClient(create_app(container=container)) as client:
            with session_scope(container.sessions) as s:
                _, secret = access.create_token(s, container.clock, name="after-restore", role="admin")
            bearer = {"Authorization": f"Bearer {secret}"}
            r = client.get(f"/tmf-api/customer/v5/customer/{customer_id}", headers=bearer)
            assert r.status_code == 200, r.text
    finally:
        container.dispose()


def test_a_backup_restores_every_row(backend, database_url, client, container, admin, tmp_path):
    customer_id = fill(client, container, admin)
    before = counts(database_url)
    assert before["customer"] >= 10 and before["contact"] >= 5 and before["outbox_event"] > 0
    assert before["alembic_version"] == 1
    if backend == "sqlite":
        backup = tmp_path / "backups" / "onethread-backup.db"
        backup.parent.mkdir()
        out = ok(run(database_url, "db", "backup", str(backup))).stdout
        assert "integrity ok" in out and str(backup) in out
        restored = tmp_path / "restored.db"
        shutil.copyfile(backup, restored)
        restored_url = f"sqlite:///{restored}"
        assert counts(restored_url) == before
        serves(restored_url, customer_id)
        return
    libpq = make_url(database_url).set(drivername="postgresql")
    dump = tmp_path / "onethread.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), libpq.render_as_string(hide_password=False)],
                   check=True, capture_output=True, timeout=120)
    name = f"{libpq.database}_restore_{uuid.uuid4().hex[:8]}"
    server = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = libpq.set(database=name).render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)],
                       check=True, capture_output=True, timeout=120)
        restored_url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        assert counts(restored_url) == before
        serves(restored_url, customer_id)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_db_backup_refuses_what_it_cannot_do(sqlite_template, tmp_path):
    database = tmp_path / "onethread.db"
    shutil.copyfile(sqlite_template, database)
    database_url = f"sqlite:///{database}"
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")
    refused(run(database_url, "db", "backup", str(existing)), "exists", "--overwrite")
    assert existing.read_bytes() == b"keep me"
    ok(run(database_url, "db", "backup", str(existing), "--overwrite"))
    assert existing.read_bytes().startswith(b"SQLite format 3")
    refused(run(f"sqlite:///{tmp_path / 'nothing-here.db'}", "db", "backup", str(tmp_path / "b.db")), "no database")
    refused(run("postgresql://postgres@127.0.0.1/whatever", "db", "backup", str(tmp_path / "c.db")), "pg_dump")
    assert not list(Path(tmp_path).glob("*.partial"))
