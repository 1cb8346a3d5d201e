"""Reading personal data in bulk is audited, and vulnerability notes are for the people who serve
the customer, not for integration tokens (issue 19)."""

from __future__ import annotations

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.models import AuditEntry

PARTY = "/tmf-api/party/v5"
CUSTOMERS = "/tmf-api/customer/v5/customer"
V1 = "/api/v1"


def people(uow, clock) -> tuple[list[str], list[str], str]:
    """Two customers (each an individual), one individual who is nobody's customer, one organization."""
    with uow() as s:
        cids, pids = [], []
        for given, family in (("Margaret", "Hughes"), ("Daniel", "Okafor")):
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
            cids.append(customers.create_customer(s, clock, SYSTEM, party_id=party.id).id)
            pids.append(party.id)
        pids.append(customers.create_individual(s, clock, SYSTEM, given_name="Nia", family_name="Lone").id)
        org = customers.create_organization(s, clock, SYSTEM, name="Acme Ltd").id
    return cids, pids, org


def list_audits(uow) -> list[AuditEntry]:
    with uow() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.purpose == "list")))


def test_listing_customers_parties_and_organizations_writes_one_audit_row_per_record(client, token_for, uow,
                                                                                     clock):
    cids, pids, org = people(uow, clock)
    reader = token_for("integration")
    assert list_audits(uow) == []

    assert len(client.get(CUSTOMERS, headers=reader).json()) == 2
    rows = list_audits(uow)
    assert sorted((r.resource_type, r.resource_id, r.customer_id) for r in rows) == sorted(
        ("customer", c, c) for c in cids)
    assert {(r.actor_name, r.action, r.channel) for r in rows} == {("test-integration", "read", "api")}

    assert len(client.get(f"{PARTY}/individual", headers=reader).json()) == 3
    individuals = [r for r in list_audits(uow) if r.resource_type == "individual"]
    assert sorted((r.resource_id, r.customer_id or "") for r in individuals) == sorted(
        [(pids[0], cids[0]), (pids[1], cids[1]), (pids[2], "")])

    assert len(client.get(f"{PARTY}/organization", headers=reader).json()) == 1
    assert [(r.resource_id, r.customer_id) for r in list_audits(uow) if r.resource_type == "organization"] == [
        (org, None)]

    # the customer's own audit trail (what a supervisor reads for a subject-access request) shows the list
    lead = token_for("team_lead")
    trail = client.get(f"{V1}/customers/{cids[0]}/audit-log", headers=lead).json()
    assert {e["purpose"] for e in trail} >= {"list"}


def test_an_empty_page_audits_nothing(client, admin):
    assert client.get(f"{CUSTOMERS}?name=nobody", headers=admin).json() == []
    assert client.get(f"{PARTY}/individual?name=nobody", headers=admin).json() == []


def test_integration_tokens_never_read_vulnerability_notes(client, token_for, uow, clock):
    cids, _, _ = people(uow, clock)
    cid = cids[0]
    agent, integration = token_for("agent"), token_for("integration")
    made = client.post(f"{V1}/customers/{cid}/vulnerabilities", headers=agent, json={
        "kind": "age", "consentGiven": True, "note": "89; lives alone", "needs": ["extra_time"],
        "reviewOn": "2026-09-01"})
    assert made.status_code == 201, made.text and made.json()["note"] == "89; lives alone"

    # the people who serve the customer read the note, in the list, the profile and the 360
    assert client.get(f"{V1}/customers/{cid}/vulnerabilities", headers=agent).json()[0]["note"] == "89; lives alone"
    assert client.get(f"{V1}/customers/{cid}/profile", headers=agent).json()["vulnerabilities"][0]["note"] == \
        "89; lives alone"
    # an integration token: the list is refused, and the profile and 360 keep the kind and needs without the note
    r = client.get(f"{V1}/customers/{cid}/vulnerabilities", headers=integration)
    assert r.status_code == 403
    for url in (f"{V1}/customers/{cid}/profile", f"{V1}/customers/{cid}/360"):
        body = client.get(url, headers=integration).json()
        vul = (body.get("profile") or body)["vulnerabilities"]
        assert [(v["kind"], v["needs"], v["note"]) for v in vul] == [("age", ["extra_time"], None)], url
    written = client.post(f"{V1}/customers/{cid}/vulnerabilities", headers=integration, json={
        "kind": "health", "consentGiven": True, "note": "hearing aid", "reviewOn": "2026-09-01"})
    assert written.status_code == 201 and written.json()["note"] is None  # kept, not echoed to a system
