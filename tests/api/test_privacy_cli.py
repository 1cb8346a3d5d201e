"""``onethread gdpr export|erase|sweep`` as a real process against the demo's story customers, on
SQLite and PostgreSQL (issue 19 item 4)."""

from __future__ import annotations

import json

from sqlalchemy import select

from onethread.demo import loader
from onethread.models import AuditEntry, Customer
from tests.support.cli import ok, refused, run


def test_export_erase_and_sweep_from_the_command_line(uow, container, tmp_path):
    with uow() as s:
        loader.load(s, container)
    with uow() as s:
        people = {name: cid for cid, name in s.execute(select(Customer.id, Customer.name))}
    url = container.settings.database_url
    env = {"ONETHREAD_ATTACHMENTS_DIR": str(tmp_path / "files")}
    margaret, priya = people["Margaret Hughes"], people["Priya Shah"]

    out = tmp_path / "margaret.json"
    done = ok(run(url, "gdpr", "export", margaret, "--by", "ada.admin", "--out", str(out), env=env))
    assert "7 contacts" in done.stderr
    data = json.loads(out.read_text())
    assert data["party"]["family_name"] == "Hughes" and data["exportedBy"]["name"] == "Ada Admin"
    refused(run(url, "gdpr", "export", margaret, "--by", "lee.lead", env=env), "only an administrator")
    refused(run(url, "gdpr", "export", margaret, "--by", "nobody", env=env), "no active staff user")

    refused(run(url, "gdpr", "erase", margaret, "--by", "ada.admin", "--reason", "asked", env=env), "is open")
    erased = ok(run(url, "gdpr", "erase", priya, "--by", "ada.admin", "--reason", "her request, ref DSR-9",
                    env=env))
    assert erased.stdout.startswith(f"erased {priya} (") and "kept:" in erased.stdout
    with uow() as s:
        assert s.get(Customer, priya).name == "Erased customer"
        entry = s.scalar(select(AuditEntry).where(AuditEntry.customer_id == priya,
                                                  AuditEntry.resource_type == "personal_data"))
        assert entry.actor_name == "Ada Admin" and entry.channel == "cli"
    refused(run(url, "gdpr", "erase", priya, "--by", "ada.admin", "--reason", "again", env=env), "erased on")

    swept = ok(run(url, "gdpr", "sweep", env=env))
    assert "audit_entry:" in swept.stdout and "retention sweep at" in swept.stdout

    bad = tmp_path / "privacy.yaml"
    bad.write_text("name: privacy\nversion: 1\nerasure:\n  bill: delete\n")
    refused(run(url, "gdpr", "sweep", env={**env, "ONETHREAD_PRIVACY_POLICY_FILE": str(bad)}),
            f"{bad}, line 4: erasure: unknown record kind 'bill'")
