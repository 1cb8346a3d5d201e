"""Issue 19 item 4: personal-data rights on the demo's story customers, through the real app on
SQLite and PostgreSQL: the subject-access export holds everything on the customer and is audited;
erasure removes the identity while the case and the bills stay and the customer 360 still loads;
a customer with an open case is refused; the retention sweep removes what is old and keeps what is
recent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from onethread.access import service as access
from onethread.attachments import service as attachments
from onethread.demo import loader
from onethread.models import (
    Attachment,
    AuditEntry,
    Bill,
    Case,
    Contact,
    Customer,
    Identifier,
    IdentifierHolding,
    Party,
    StaffUser,
)
from onethread.privacy import retention

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _demo(uow, container) -> dict[str, str]:
    with uow() as s:
        loader.load(s, container)
    with uow() as s:
        return {name: cid for cid, name in s.execute(select(Customer.id, Customer.name))}


def _person_token(uow, clock, username: str) -> dict[str, str]:
    """A token issued to a named demo person (acts as that person)."""
    with uow() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.username == username))
        _, secret = access.create_token(s, clock, name=f"{username}-laptop", role=user.role, staff_user_id=user.id)
    return {"Authorization": f"Bearer {secret}"}


def _attach(uow, container, customer_id: str, name: str = "receipt.png", data: bytes = PNG) -> str:
    """A file on the customer's first contact, as the portal keeps one."""
    with uow() as s:
        contact = s.scalar(select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.occurred_at))
        ada = s.scalar(select(StaffUser).where(StaffUser.username == "ada.admin"))
        (kept,) = attachments.keep(s, container.clock, access.staff_principal(ada), contact,
                                   [attachments.Incoming(name, "image/png", data)], source="portal")
        return kept.id


def _file(container, key: str) -> Path:
    return Path(container.settings.attachments_dir, *key.split("/"))


def test_export_holds_everything_on_a_story_customer_and_is_audited(client, uow, container, clock):
    people = _demo(uow, container)
    margaret = people["Margaret Hughes"]
    attachment_id = _attach(uow, container, margaret)
    ada = _person_token(uow, clock, "ada.admin")
    client.get(f"/api/v1/customers/{margaret}/360", headers=ada)  # a read, to find in the export's audit

    answer = client.get(f"/api/v1/customers/{margaret}/export", headers=ada)
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    data = answer.json()
    assert data["customerId"] == margaret and data["exportedBy"]["name"] == "Ada Admin"
    assert data["party"]["given_name"] == "Margaret" and data["party"]["birth_date"] == "1974-09-14"
    values = {i["value"] for i in data["identifiers"]}
    assert {"margaret.hughes@mail.example", "x:maggie_h", "+447700900201"} <= values
    with uow() as s:
        contacts = s.scalar(select(func.count()).select_from(Contact).where(Contact.customer_id == margaret))
        complaint = s.scalar(select(Case.id).where(Case.customer_id == margaret))
    assert len(data["contacts"]) == contacts == 7
    case = next(c for c in data["cases"] if c["id"] == complaint)
    assert case["events"] and case["kind"] == "complaint"
    assert len(data["outboundMessages"]) == 1
    assert [h["name"] for h in data["households"]] == ["Hughes household"]
    assert any(e["resource_type"] == "customer" and e["purpose"] == "360" for e in data["auditOfReads"])
    (file,) = [a for a in data["attachments"] if a["source"] == "portal"]
    assert file == {**file, "id": attachment_id, "name": "receipt.png", "size": len(PNG),
                    "contentType": "image/png", "link": f"/api/v1/attachments/{attachment_id}/content"}
    assert client.get(file["link"], headers=ada).content == PNG
    assert "password_hash" not in str(data)

    # The export itself is in the audit log, with the caller's name.
    log = client.get(f"/api/v1/customers/{margaret}/audit-log", headers=ada).json()
    exported = [e for e in log if e["resourceType"] == "subject_access_export"]
    assert len(exported) == 1 and exported[0]["actor"]["name"] == "Ada Admin"
    assert exported[0]["detail"]["counts"]["contacts"] == 7

    # Bills and decisions of another story customer, and who may ask.
    priya = client.get(f"/api/v1/customers/{people['Priya Shah']}/export", headers=ada).json()
    assert len(priya["bills"]) > 12 and all(b["charges"] for b in priya["bills"])
    assert priya["approvalRequests"][0]["action"] == "terminate_line"
    daniel = client.get(f"/api/v1/customers/{people['Daniel Okafor']}/export", headers=ada).json()
    assert len(daniel["decisions"]) == 1
    assert client.get(f"/api/v1/customers/{margaret}/export",
                      headers=_person_token(uow, clock, "lee.lead")).status_code == 403
    missing = client.get("/api/v1/customers/01HZZZZZZZZZZZZZZZZZZZZZZZ/export", headers=ada)
    assert missing.status_code == 404


def test_erasure_removes_the_identity_and_keeps_the_case_and_the_bills(client, uow, container, clock):
    people = _demo(uow, container)
    priya = people["Priya Shah"]
    attachment_id = _attach(uow, container, priya)
    with uow() as s:
        stored = s.get(Attachment, attachment_id).storage_key
        bills = s.scalar(select(func.count()).select_from(Bill).where(Bill.customer_id == priya))
        cases = list(s.scalars(select(Case.id).where(Case.customer_id == priya)))
    assert _file(container, stored).exists()
    ada = _person_token(uow, clock, "ada.admin")

    # A token not issued to a person may not erase; a reason is required.
    assert client.post(f"/api/v1/customers/{priya}/erase", json={"reason": "her request"},
                       headers=container_token(uow, clock)).status_code == 403
    assert client.post(f"/api/v1/customers/{priya}/erase", json={"reason": " "}, headers=ada).status_code == 400

    answer = client.post(f"/api/v1/customers/{priya}/erase",
                         json={"reason": "Her erasure request of 1 March, ref DSR-17"}, headers=ada)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["erasedBy"]["name"] == "Ada Admin" and "bill" in done["kept"] and "decision" in done["kept"]
    assert done["done"]["contact"] == 5 and done["done"]["attachment"] == 1

    with uow() as s:
        customer = s.get(Customer, priya)
        party = s.get(Party, customer.party_id)
        values = set(s.scalars(select(Identifier.value).join(IdentifierHolding, IdentifierHolding.identifier_id
                                                             == Identifier.id).where(IdentifierHolding.customer_id
                                                                                     == priya)))
        texts = set(s.scalars(select(Contact.text).where(Contact.customer_id == priya)))
        assert customer.name == "Erased customer" and party.given_name is None and party.birth_date is None
        assert "priya.shah@mail.example" not in values and "x:priyashah" not in values
        assert "+447700900301" in values  # a recycled number, Tom's too: kept (and kept by the policy)
        assert texts == {"[erased]"}
        assert s.get(Attachment, attachment_id) is None
        # What the operator must keep is still there.
        assert s.scalar(select(func.count()).select_from(Bill).where(Bill.customer_id == priya)) == bills
        assert list(s.scalars(select(Case.id).where(Case.customer_id == priya))) == cases
        entry = s.scalar(select(AuditEntry).where(AuditEntry.customer_id == priya,
                                                  AuditEntry.resource_type == "personal_data"))
        assert entry.action == "delete" and entry.actor_name == "Ada Admin"
        assert entry.detail["reason"] == "Her erasure request of 1 March, ref DSR-17"
    assert not _file(container, stored).exists()

    # The customer 360 still loads, without her name anywhere in it.
    view = client.get(f"/api/v1/customers/{priya}/360", headers=ada)
    assert view.status_code == 200
    assert "Priya Shah" not in view.text and "priyashah" not in view.text
    assert any(e["title"] == "Personal data erased by Ada Admin" for e in view.json()["timeline"]["entries"])
    export = client.get(f"/api/v1/customers/{priya}/export", headers=ada).json()
    assert len(export["bills"]) == bills and [c["id"] for c in export["cases"]] == cases
    assert "Priya" not in str({k: export[k] for k in ("customer", "party", "identifiers", "contacts", "billingAccounts",
                                                      "portalAccount", "outboundMessages")})

    # Once only.
    again = client.post(f"/api/v1/customers/{priya}/erase", json={"reason": "again"}, headers=ada)
    assert again.status_code == 409 and "erased on" in again.json()["message"]


def test_erasure_is_refused_while_a_case_is_open(client, uow, container, clock):
    people = _demo(uow, container)
    margaret = people["Margaret Hughes"]
    ada = _person_token(uow, clock, "ada.admin")
    answer = client.post(f"/api/v1/customers/{margaret}/erase", json={"reason": "her request"}, headers=ada)
    assert answer.status_code == 409
    assert "is open" in answer.json()["message"]
    with uow() as s:
        assert s.get(Customer, margaret).name == "Margaret Hughes"
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.resource_type == "personal_data")) == 0
    # An unpaid bill refuses it too: the business customer owes on two bills.
    joinery = client.post(f"/api/v1/customers/{people['Harbour Lane Joinery Ltd']}/erase",
                          json={"reason": "closing down"}, headers=ada)
    assert joinery.status_code == 409 and "owes" in joinery.json()["message"]


def container_token(uow, clock) -> dict[str, str]:
    """An admin token for a system (no person behind it)."""
    with uow() as s:
        _, secret = access.create_token(s, clock, name="script", role="admin")
    return {"Authorization": f"Bearer {secret}"}


def _contact_texts(uow) -> dict[str, tuple]:
    with uow() as s:
        return {c.id: (c.occurred_at, c.text) for c in s.scalars(select(Contact))}


def test_the_sweep_removes_old_records_and_keeps_recent_ones(client, uow, container, clock):
    people = _demo(uow, container)
    edith = people["Edith Clarke"]
    ada = _person_token(uow, clock, "ada.admin")
    client.get(f"/api/v1/customers/{edith}/360", headers=ada)
    with uow() as s:
        reads = s.scalar(select(func.count()).select_from(AuditEntry))
    before = _contact_texts(uow)
    assert reads and before

    # Two years and a day on, the reads of then are past their period (730 days): deleted; a read
    # made now stays. Contacts are kept three years: only those older than that lose their content.
    clock.advance(timedelta(days=731))
    client.get(f"/api/v1/customers/{edith}/360", headers=ada)
    cutoff = clock.now() - timedelta(days=1095)
    with uow() as s:
        report = retention.sweep(s, clock)
    old = {i for i, (at, _) in before.items() if at < cutoff}
    assert report.counts["audit_entry"] == reads and report.counts["contact"] == len(old)
    with uow() as s:
        left = list(s.scalars(select(AuditEntry)))
        assert len(left) == 1 and left[0].at == clock.now()

    # A year and more later: the rest of the demo's contacts are old too, but last week's is kept.
    clock.advance(timedelta(days=800))
    with uow() as s:
        recent = s.scalar(select(Contact).where(Contact.customer_id == edith, Contact.id.not_in(old))
                          .order_by(Contact.occurred_at.desc()))
        recent.occurred_at = clock.now() - timedelta(days=5)
        recent_id, recent_text = recent.id, recent.text
    with uow() as s:
        report = retention.sweep(s, clock)
    assert report.counts["contact"] == len(before) - len(old) - 1
    after = _contact_texts(uow)
    assert after[recent_id][1] == recent_text and recent_text != "[erased]"
    assert len(after) == len(before)  # anonymised, not deleted: the contacts stay on their cases
    assert sum(text == "[erased]" for _, text in after.values()) == len(before) - 1
    # Run again: nothing more to do.
    with uow() as s:
        assert retention.sweep(s, clock).total == 0
    assert client.get(f"/api/v1/customers/{edith}/360", headers=ada).status_code == 200


def test_the_worker_sweeps_once_a_day_on_the_injected_clock(uow, container, clock):
    from onethread.jobs import runner

    _demo(uow, container)
    clock.advance(timedelta(days=731))
    first = runner.run_once(container, worker_id="w")
    assert first.sweeps.get("retention", 0) > 0
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.at < clock.now() - timedelta(days=730))) == 0
        s.add(AuditEntry(at=clock.now() - timedelta(days=800), actor_type="system", actor_id="SYSTEM",
                         actor_name="onethread", action="read", resource_type="customer", resource_id=None,
                         customer_id=None, detail={}))
    clock.advance(timedelta(hours=23))
    assert "retention" not in runner.run_once(container, worker_id="w").sweeps  # not a day yet
    clock.advance(timedelta(hours=2))
    assert runner.run_once(container, worker_id="w").sweeps.get("retention") == 1
