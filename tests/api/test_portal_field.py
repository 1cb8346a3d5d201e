"""The customer, or her son, reports through the portal what a visit left behind: it lands as a
harm on the case exactly as a technician's report does (severity raised for a vulnerable
customer, the damage-claim task for the case owner, the case owner and the subcontractor's
manager told). A representative who may only follow cannot report; another customer's work order
is 404; bad input is refused with nothing written. The same through the portal page."""

from __future__ import annotations

from sqlalchemy import func, select

from onethread.access import portal as accounts
from onethread.access.rules import SYSTEM
from onethread.customers import service as customers
from onethread.models import AuditEntry, CaseEvent, FieldIncident, Harm, Task
from tests.support.s5_world import V1, field_world, subcontractor
from tests.tmf_schema import assert_tmf_error

PASSWORD = "a long portal password"
PORTAL = f"{V1}/portal/work-orders"


def _world(client, uow, clock) -> dict:
    w = field_world(uow, clock)
    with uow() as s:
        def person(given, family):
            return customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)

        robert, amira, margaret = person("Robert", "Clarke"), person("Amira", "Haddad"), person("Margaret", "Hughes")
        customers.create_customer(s, clock, SYSTEM, party_id=margaret.id)
        customers.add_representative(s, clock, SYSTEM, customer_id=w["customer"], party_id=robert.id,
                                     relationship="son", permissions=["view_cases", "message_owner"])
        customers.add_representative(s, clock, SYSTEM, customer_id=w["customer"], party_id=amira.id,
                                     relationship="social_worker", permissions=["view_cases"])
        edith = s.scalar(select(customers.Customer.party_id).where(customers.Customer.id == w["customer"]))
        for party, login in ((robert.id, "robert@mail.example"), (amira.id, "amira@council.example"),
                             (margaret.id, "margaret@mail.example"), (edith, "edith@mail.example")):
            accounts.create_account(s, clock, party_id=party, login=login, password=PASSWORD)
    sub = subcontractor(client, w)
    made = client.post(f"{V1}/work-orders", headers=w["h"]["alex"], json={
        "caseId": w["case"], "kind": "installation", "title": "Fibre installation", "subcontractorId": sub})
    assert made.status_code == 201, made.text
    w["wo"] = made.json()["id"]
    return w


def _sign_in(client, login: str) -> None:
    client.cookies.clear()
    r = client.post("/portal/login", data={"login": login, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _incidents(uow) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(FieldIncident))


def test_the_sons_report_lands_as_a_harm_like_a_technicians(client, uow, clock):
    w = _world(client, uow, clock)
    _sign_in(client, "robert@mail.example")
    listed = client.get(PORTAL)
    assert listed.status_code == 200, listed.text
    (order,) = listed.json()
    assert order["id"] == w["wo"] and order["subcontractor"] == "FibreFix Ltd" and order["mayReport"] is True
    assert order["customer"]["name"] == "Edith Clarke"

    reported = client.post(f"{PORTAL}/{w['wo']}/incidents", json={
        "kind": "damage", "harmKind": "no_heating", "description": "The engineer drilled into the heating pipe"})
    assert reported.status_code == 201, reported.text
    body = reported.json()
    assert body["caseId"] == w["case"] and body["reportedBy"] == "Robert Clarke (son) for Edith Clarke"

    with uow() as s:
        item = s.get(FieldIncident, body["id"])
        harm = s.get(Harm, item.harm_id)
        claim = s.get(Task, item.claim_task_id)
        assert harm.case_id == w["case"] and harm.kind == "no_heating"
        assert harm.severity == "urgent" and harm.reported_severity == "medium"  # a vulnerable customer
        assert harm.reported_by == "Robert Clarke (son) for Edith Clarke"
        assert claim.assignee_id == w["ids"]["alex"] and claim.status == "open"
        told = s.scalar(select(CaseEvent).where(CaseEvent.case_id == w["case"], CaseEvent.kind == "incident_reported"))
        assert told.data["told"] == ["Alex Morgan (case owner)", "Fay Dunn (FibreFix Ltd's manager)"]
        read = s.scalar(select(AuditEntry).where(AuditEntry.resource_type == "work_order",
                                                 AuditEntry.actor_name == "Robert Clarke"))
        assert read.customer_id == w["customer"] and read.channel == "portal"
    # the desk sees it as any incident; the subcontractor sees it on its own work order
    seen = client.get(f"{V1}/field-incidents/{body['id']}", headers=w["h"]["alex"])
    assert seen.status_code == 200 and seen.json()["harm"]["severity"] == "urgent"
    assert client.get(f"{V1}/field-incidents/{body['id']}", headers=w["h"]["finn"]).status_code == 200
    # and it is on the list the son sees
    assert [i["description"] for i in client.get(PORTAL).json()[0]["incidents"]] == [
        "The engineer drilled into the heating pipe"]


def test_who_may_report_and_bad_input(client, uow, clock):
    w = _world(client, uow, clock)
    incident = {"kind": "damage", "harmKind": "property_damage", "description": "Scratched floor"}
    _sign_in(client, "amira@council.example")  # may follow Edith's cases, not write for her
    assert client.get(PORTAL).json()[0]["mayReport"] is False
    assert_tmf_error(client.post(f"{PORTAL}/{w['wo']}/incidents", json=incident), 403)
    _sign_in(client, "margaret@mail.example")  # another customer: not hers, and not said to exist
    assert client.get(PORTAL).json() == []
    assert_tmf_error(client.post(f"{PORTAL}/{w['wo']}/incidents", json=incident), 404)
    _sign_in(client, "edith@mail.example")
    for bad in ({**incident, "kind": "flood"}, {**incident, "harmKind": "no_service"},
                {**incident, "description": " "}, {**incident, "severity": "dire"}, {**incident, "visitId": "x"}):
        assert_tmf_error(client.post(f"{PORTAL}/{w['wo']}/incidents", json=bad), 400)
    assert_tmf_error(client.post(f"{PORTAL}/{w['wo']}/incidents", json=incident,
                                 headers={"Origin": "https://evil.example"}), 403)
    assert _incidents(uow) == 0
    client.cookies.clear()
    assert_tmf_error(client.post(f"{PORTAL}/{w['wo']}/incidents", json=incident,
                                 headers=w["h"]["alex"]), 401)  # staff credentials do not open the portal
    assert _incidents(uow) == 0


def test_edith_reports_from_the_portal_page(client, uow, clock):
    w = _world(client, uow, clock)
    _sign_in(client, "edith@mail.example")
    page = client.get("/portal/work-orders")
    assert page.status_code == 200
    assert "Fibre installation" in page.text and "FibreFix Ltd" in page.text and "Report a problem" in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert 'href="/portal/work-orders"' in client.get("/portal").text

    refused = client.post(f"/portal/work-orders/{w['wo']}/incidents",
                          data={"kind": "damage", "harm_kind": "no_water", "description": "  "})
    assert refused.status_code == 400 and "describe what happened" in refused.text
    assert _incidents(uow) == 0
    sent = client.post(f"/portal/work-orders/{w['wo']}/incidents", follow_redirects=False,
                       data={"kind": "unsafe", "harm_kind": "no_water", "description": "Water left off at the mains"})
    assert sent.status_code == 303 and sent.headers["location"] == "/portal/work-orders?reported=1"
    after = client.get(sent.headers["location"])
    assert "your report is with the person looking after your case" in after.text
    assert "Water left off at the mains" in after.text
    with uow() as s:
        harm = s.scalar(select(Harm).where(Harm.case_id == w["case"]))
        assert harm.reported_by == "Edith Clarke (customer)" and harm.kind == "no_water"
    assert client.post(f"/portal/work-orders/{'0' * 26}/incidents",
                       data={"kind": "damage", "harm_kind": "other", "description": "x"}).status_code == 404
