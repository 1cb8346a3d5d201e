"""Field service through the API: a subcontractor's people see only their own work; cancelled and
rebooked visits and the customer's wasted days; bad input refused with nothing written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.models import AuditEntry, TimelineEntry, Visit, WorkOrder
from tests.support.s5_world import V1, field_world, slot, subcontractor
from tests.tmf_schema import assert_tmf_error


def _order(client, w, sub: str, title: str = "Fibre installation") -> str:
    made = client.post(f"{V1}/work-orders", headers=w["h"]["alex"], json={
        "caseId": w["case"], "kind": "installation", "title": title, "subcontractorId": sub})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_a_subcontractor_sees_only_its_own_work_orders_and_visits(client, uow, clock, container):
    w = field_world(uow, clock, vulnerable=False)
    h = w["h"]
    fibrefix, cableco = subcontractor(client, w), subcontractor(client, w, "other", "CableCo")
    ours, theirs = _order(client, w, fibrefix), _order(client, w, cableco, "Cable repair")
    visit = client.post(f"{V1}/work-orders/{theirs}/visits", headers=h["alex"], json=slot(clock, 2)).json()["id"]

    listed = client.get(f"{V1}/work-orders", headers=h["finn"])
    assert listed.status_code == 200 and [o["id"] for o in listed.json()] == [ours]
    assert listed.json()[0]["customerName"] == "Edith Clarke"
    assert client.get(f"{V1}/work-orders/{ours}", headers=h["finn"]).status_code == 200
    assert_tmf_error(client.get(f"{V1}/work-orders/{theirs}", headers=h["finn"]), 404)
    assert_tmf_error(client.get(f"{V1}/visits/{visit}", headers=h["finn"]), 404)
    assert_tmf_error(client.post(f"{V1}/visits/{visit}/dispatch", headers=h["finn"],
                                 json={"technicianId": w["ids"]["finn"]}), 404)
    assert_tmf_error(client.post(f"{V1}/work-orders/{theirs}/incidents", headers=h["finn"], json={
        "kind": "damage", "harmKind": "property_damage", "severity": "low", "description": "scratch"}), 404)
    # CableCo's own person sees its visit
    assert client.get(f"{V1}/visits/{visit}", headers=h["carl"]).status_code == 200
    # not the customer's cases, nor her other data
    assert_tmf_error(client.get(f"{V1}/cases/{w['case']}/events", headers=h["finn"]), 403)
    assert_tmf_error(client.get(f"/tmf-api/troubleTicket/v5/troubleTicket/{w['case']}", headers=h["finn"]), 403)
    assert_tmf_error(client.get(f"{V1}/customers/{w['customer']}/timeline", headers=h["finn"]), 403)
    assert_tmf_error(client.get(f"{V1}/subcontractors/{fibrefix}", headers=h["finn"]), 403)
    # a technician from another firm cannot be sent on FibreFix's visit
    mine = client.post(f"{V1}/work-orders/{ours}/visits", headers=h["alex"], json=slot(clock, 2)).json()["id"]
    assert_tmf_error(client.post(f"{V1}/visits/{mine}/dispatch", headers=h["alex"],
                                 json={"technicianId": w["ids"]["carl"]}), 400)
    with uow() as s:
        reads = s.scalar(select(func.count()).where(AuditEntry.resource_type == "work_order",
                                                    AuditEntry.actor_id == w["ids"]["finn"]))
        assert reads >= 2  # the list and the one he opened


def test_cancelled_and_rebooked_visits_and_wasted_days_are_on_the_timeline(client, uow, clock):
    w = field_world(uow, clock, vulnerable=False)
    h = w["h"]
    order = _order(client, w, subcontractor(client, w))
    first = client.post(f"{V1}/work-orders/{order}/visits", headers=h["alex"], json=slot(clock, 3)).json()["id"]
    # cancelled by the customer days ahead: not a wasted day
    gone = client.post(f"{V1}/visits/{first}/cancel", headers=h["alex"],
                       json={"cancelledBy": "customer", "reason": "Hospital appointment"})
    assert gone.status_code == 200 and gone.json()["wastedDay"] is False
    second = client.post(f"{V1}/work-orders/{order}/visits", headers=h["alex"],
                         json={**slot(clock, 5), "rebooks": first})
    assert second.status_code == 201 and second.json()["rebooks"] == first
    # the subcontractor cancels on the morning: she stayed in for nothing
    clock.advance(timedelta(days=5, hours=-2))
    late = client.post(f"{V1}/visits/{second.json()['id']}/cancel", headers=h["finn"],
                       json={"cancelledBy": "subcontractor", "reason": "Van broke down"})
    assert late.status_code == 200 and late.json()["wastedDay"] is True
    assert client.get(f"{V1}/work-orders/{order}", headers=h["alex"]).json()["wastedDays"] == 1
    with uow() as s:
        titles = s.scalars(select(TimelineEntry.title).where(TimelineEntry.customer_id == w["customer"])
                           .order_by(TimelineEntry.occurred_at)).all()
    assert any("cancelled by the customer" in t for t in titles)
    assert any(t.startswith("Visit rebooked for") for t in titles)
    assert any("cancelled by the subcontractor; the customer's wasted day no. 1" in t for t in titles)


def test_bad_input_is_refused_and_writes_nothing(client, uow, clock, token_for):
    w = field_world(uow, clock, vulnerable=False)
    h = w["h"]
    sub = subcontractor(client, w)
    # a prerequisite without its owning team
    assert_tmf_error(client.post(f"{V1}/work-orders", headers=h["alex"], json={
        "caseId": w["case"], "kind": "installation", "title": "Fibre", "subcontractorId": sub,
        "tasks": [{"title": "Network connection", "kind": "prerequisite"}]}), 400)
    assert_tmf_error(client.post(f"{V1}/work-orders", headers=h["alex"], json={
        "caseId": w["case"], "kind": "moving", "title": "Fibre", "subcontractorId": sub}), 400)
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == 0
    order = _order(client, w, sub)
    # a slot in the past; a failed visit without a cause; a system token is nobody
    past = {"validFor": {"startDateTime": (clock.now() - timedelta(hours=5)).isoformat(),
                         "endDateTime": (clock.now() - timedelta(hours=1)).isoformat()}}
    assert_tmf_error(client.post(f"{V1}/work-orders/{order}/visits", headers=h["alex"], json=past), 400)
    assert_tmf_error(client.post(f"{V1}/work-orders/{order}/visits", headers=token_for("agent"),
                                 json=slot(clock, 2)), 403)
    visit = client.post(f"{V1}/work-orders/{order}/visits", headers=h["alex"], json=slot(clock, 2)).json()["id"]
    client.post(f"{V1}/visits/{visit}/dispatch", headers=h["alex"], json={"technicianId": w["ids"]["finn"]})
    assert_tmf_error(client.post(f"{V1}/visits/{visit}/outcome", headers=h["finn"], json={"outcome": "failed"}), 400)
    assert_tmf_error(client.get(f"{V1}/work-orders", headers=h["alex"], params={"colour": "red"}), 400)
    with uow() as s:
        assert s.get(Visit, visit).status == "dispatched"


def test_the_s5_demo_has_its_work_order_incident_and_audit(client, admin, uow, container):
    from onethread.demo import loader
    from onethread.models import Case, Customer, Escalation

    with uow() as s:
        loader.load(s, container)
    with container.sessions() as s:
        edith = s.query(Customer).filter(Customer.name == "Edith Clarke").one().id
    orders = client.get(f"{V1}/work-orders", headers=admin, params={"customerId": edith}).json()
    assert len(orders) == 1
    order = client.get(f"{V1}/work-orders/{orders[0]['id']}", headers=admin).json()
    assert [(v["status"], v["cause"]) for v in order["visits"]] == [
        ("failed", "network_connection"), ("failed", "network_connection"), ("done", None)]
    assert order["wastedDays"] == 2
    with container.sessions() as s:
        install = s.get(Case, order["caseId"])
        assert install.status == "closed"
        sent = {e.to_staff_id for e in s.query(Escalation).filter(Escalation.case_id == install.id,
                                                                 Escalation.clock_kind == "visit_failed")}
        assert len(sent) == 2
    incidents = [e for e in client.get(f"{V1}/customers/{edith}/timeline", headers=admin,
                                       params={"limit": 200}).json()["entries"]
                 if "Field incident" in (e.get("title") or "")]
    assert incidents
    damage = [c for c in client.get(f"{V1}/customers/{edith}/360", headers=admin).json()["openCases"]
              if c["kind"] == "damage_claim"]
    assert damage and damage[0]["severity"] == "urgent" and damage[0]["owner"]["name"] == "Sofia Lind"
    audits = client.get(f"{V1}/subcontractor-audits", headers=admin).json()
    assert [(a["owner"]["name"], a["status"]) for a in audits] == [("Bea Jones", "open")]
