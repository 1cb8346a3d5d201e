"""Field records are the customer's data too: her work orders, with their tasks, visits and
incidents, are in the subject-access export; erasure takes out what was written at her home (visit
notes, incident descriptions, repair notes) and her name in work-order titles, while the work
orders, visits and incidents stay as the subcontractor's record."""

from __future__ import annotations

from sqlalchemy import select, update

from onethread.models import Case, FieldIncident, Visit, WorkOrder
from tests.support.s5_world import V1, field_world, slot, subcontractor


def _field_history(client, w, clock) -> dict:
    h = w["h"]
    sub = subcontractor(client, w)
    made = client.post(f"{V1}/work-orders", headers=h["alex"], json={
        "caseId": w["case"], "kind": "installation", "title": "Fibre installation for Edith Clarke",
        "subcontractorId": sub})
    assert made.status_code == 201, made.text
    order = made.json()["id"]
    visit = client.post(f"{V1}/work-orders/{order}/visits", headers=h["alex"], json=slot(clock, 1)).json()["id"]
    assert client.post(f"{V1}/visits/{visit}/dispatch", headers=h["fay"],
                       json={"technicianId": w["ids"]["finn"]}).status_code == 200
    done = client.post(f"{V1}/visits/{visit}/outcome", headers=h["finn"], json={
        "outcome": "done", "note": "Mrs Clarke's key is under the blue pot by the door"})
    assert done.status_code == 200, done.text
    reported = client.post(f"{V1}/work-orders/{order}/incidents", headers=h["finn"], json={
        "kind": "damage", "harmKind": "property_damage", "severity": "low", "visitId": visit,
        "description": "Scratched Mrs Clarke's hall floor carrying the ladder"})
    assert reported.status_code == 201, reported.text
    incident = reported.json()["id"]
    assert client.post(f"{V1}/field-incidents/{incident}/repair", headers=h["finn"],
                       json={"note": "Floor polished at 4 Elm Row"}).status_code == 200
    return {"order": order, "visit": visit, "incident": incident}


def test_the_export_holds_her_work_orders_with_their_visits_and_incidents(client, uow, clock):
    w = field_world(uow, clock, vulnerable=False)
    ids = _field_history(client, w, clock)

    answer = client.get(f"{V1}/customers/{w['customer']}/export", headers=w["h"]["ada"])
    assert answer.status_code == 200, answer.text
    data = answer.json()
    (order,) = data["workOrders"]
    assert order["id"] == ids["order"] and order["title"] == "Fibre installation for Edith Clarke"
    (visit,) = order["visits"]
    assert visit["id"] == ids["visit"] and visit["status"] == "done"
    assert visit["note"] == "Mrs Clarke's key is under the blue pot by the door"
    (incident,) = order["incidents"]
    assert incident["id"] == ids["incident"] and incident["repair_note"] == "Floor polished at 4 Elm Row"
    assert incident["reported_by"] == "Finn Walsh"
    log = client.get(f"{V1}/customers/{w['customer']}/audit-log", headers=w["h"]["ada"]).json()
    exported = next(e for e in log if e["resourceType"] == "subject_access_export")
    assert exported["detail"]["counts"]["workOrders"] == 1


def test_erasure_takes_out_what_was_written_at_her_home_and_keeps_the_field_record(client, uow, clock):
    w = field_world(uow, clock, vulnerable=False)
    ids = _field_history(client, w, clock)
    h = w["h"]
    # While her case is open she cannot be erased.
    refused = client.post(f"{V1}/customers/{w['customer']}/erase", headers=h["ada"], json={"reason": "DSR-9"})
    assert refused.status_code == 409
    with uow() as s:  # months later, her cases are closed
        s.execute(update(Case).where(Case.customer_id == w["customer"]).values(status="closed"))

    erased = client.post(f"{V1}/customers/{w['customer']}/erase", headers=h["ada"],
                         json={"reason": "Her erasure request, ref DSR-9"})
    assert erased.status_code == 200, erased.text
    assert erased.json()["done"]["field_service"] == 2  # the visit's note and the incident
    with uow() as s:
        order = s.get(WorkOrder, ids["order"])
        visit = s.get(Visit, ids["visit"])
        incident = s.get(FieldIncident, ids["incident"])
        assert order.title == "Fibre installation for Erased customer"
        assert visit.note == "[erased]" and visit.status == "done"
        assert incident.description == incident.repair_note == "[erased]"
        assert s.scalar(select(Visit.id).where(Visit.customer_id == w["customer"])) == ids["visit"]
    # the subcontractor's record still counts her visit and the incident
    record = client.get(f"{V1}/subcontractors/{order.subcontractor_id}", headers=h["sam"]).json()["record"]
    assert record["visits"] == 1 and record["incidentsPer100Visits"] == 100.0
    export = client.get(f"{V1}/customers/{w['customer']}/export", headers=h["ada"]).json()
    assert "Clarke" not in str(export["workOrders"]) and "Elm Row" not in str(export["workOrders"])
