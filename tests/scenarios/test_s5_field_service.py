"""S5 "But the fibre works", the field side, through the HTTP API on the sandbox clock.

It runs on the sandbox's manual clock, moved over HTTP (``POST /api/v1/admin/clock``), which runs
the worker's sweeps at their own times as it goes.

The installation is a work order with a prerequisite (the network connection at the cabinet,
owned by the network team). No visit is booked while it is open; the network team says it is
done, twice, and twice the visit fails for that cause: the second failure escalates to the
network team's lead and the case owner, and a visit is refused again while the connection is
open. The prerequisite, overdue, escalates. On the third visit the technician drills into a
heating pipe and reports it from the field: an urgent harm (a vulnerable customer without
heating), a claim task, the case owner and the subcontractor's manager told, and the
subcontractor's record opens an audit for the supplier manager. "The fibre works" closes
nothing; the subcontractor's own repair does not close the harm; the customer's confirmation does.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.db.session import session_scope
from onethread.inventory import service as inventory
from onethread.models import Escalation, Harm, ManualClockRow, Task, TimelineEntry
from tests.support.s5_world import V1, field_world, slot, subcontractor
from tests.tmf_schema import assert_tmf_error


@pytest.fixture
def sandbox(database_url):
    """The app on the manual (database) clock, pinned at Monday 2 March 2026, 09:00 UTC."""
    c = build(Settings(database_url=database_url, env="test", clock="manual"))
    with session_scope(c.sessions) as s:
        row = s.get(ManualClockRow, 1)
        row.now = row.updated_at = row.now.replace(year=2026, month=3, day=2, hour=9, minute=0, second=0,
                                                   microsecond=0)
    with TestClient(create_app(container=c)) as client:
        yield SimpleNamespace(client=client, uow=lambda: session_scope(c.sessions), clock=c.clock)
    c.dispose()


def move(client, w, duration: str) -> None:
    """Time passes on the sandbox clock; the sweeps due on the way run at their own times."""
    moved = client.post("/api/v1/admin/clock", headers=w["h"]["ada"], json={"advance": duration})
    assert moved.status_code == 200, moved.text


def visit_fails(client, w, clock, days: int, cause: str = "network_connection") -> str:
    booked = client.post(f"{V1}/work-orders/{w['wo']}/visits", headers=w["h"]["alex"], json=slot(clock, days))
    assert booked.status_code == 201, booked.text
    visit = booked.json()["id"]
    assert booked.json()["@type"] == "Appointment"
    sent = client.post(f"{V1}/visits/{visit}/dispatch", headers=w["h"]["fay"], json={"technicianId": w["ids"]["finn"]})
    assert sent.status_code == 200, sent.text
    move(client, w, f"P{days}DT1H")
    failed = client.post(f"{V1}/visits/{visit}/outcome", headers=w["h"]["finn"], json={
        "outcome": "failed", "cause": cause, "note": "No signal at the cabinet: the connection is not made"})
    assert failed.status_code == 200 and failed.json()["wastedDay"] is True, failed.text
    return visit


def prerequisite(client, w) -> dict:
    order = client.get(f"{V1}/work-orders/{w['wo']}", headers=w["h"]["alex"]).json()
    return next(t for t in order["tasks"] if t["kind"] == "prerequisite")


def test_but_the_fibre_works(sandbox):
    client, uow, clock = sandbox.client, sandbox.uow, sandbox.clock
    w = field_world(uow, clock)
    h = w["h"]
    sub = subcontractor(client, w)

    made = client.post(f"{V1}/work-orders", headers=h["alex"], json={
        "caseId": w["case"], "kind": "installation", "title": "Fibre installation at Mrs Clarke's",
        "subcontractorId": sub, "tasks": [
            {"title": "Network connection at the cabinet", "kind": "prerequisite", "cause": "network_connection",
             "teamId": w["teams"]["network"], "dueAt": (clock.now() + timedelta(days=3)).isoformat()},
            {"title": "Install the fibre box and test the line"}]})
    assert made.status_code == 201, made.text
    w["wo"] = made.json()["id"]
    assert [t["kind"] for t in made.json()["tasks"]] == ["prerequisite", "step"]
    assert made.json()["tasks"][0]["owner"] == "Network team"

    # No visit while the connection is open: the refusal names it and its owner.
    refused = assert_tmf_error(client.post(f"{V1}/work-orders/{w['wo']}/visits", headers=h["alex"],
                                           json=slot(clock, 2)), 409)
    assert "Network connection at the cabinet" in refused["message"] and "Network team" in refused["message"]

    # The network team says it is done; twice the visit fails for that very cause.
    for attempt in (1, 2):
        done = client.post(f"{V1}/work-order-tasks/{prerequisite(client, w)['id']}/done", headers=h["nina"],
                           json={"note": "Connection made"})
        assert done.status_code == 200, done.text
        visit_fails(client, w, clock, days=2)
        assert prerequisite(client, w)["status"] == "open"  # the failed visit showed it is not done
        with uow() as s:
            found = s.scalars(select(Escalation).where(Escalation.case_id == w["case"],
                                                       Escalation.clock_kind == "visit_failed")).all()
            assert len(found) == (0 if attempt == 1 else 2)
    assert {e.to_staff_id for e in found} == {w["ids"]["nina"], w["ids"]["alex"]}

    # Still open: no booking; overdue, the network team's task escalates to the case owner.
    assert_tmf_error(client.post(f"{V1}/work-orders/{w['wo']}/visits", headers=h["alex"], json=slot(clock, 1)), 409)
    move(client, w, "P4D")
    with uow() as s:
        overdue = s.scalars(select(Escalation).where(Escalation.case_id == w["case"],
                                                     Escalation.clock_kind == "task_overdue")).all()
        assert overdue and overdue[0].to_staff_id == w["ids"]["alex"]

    # Made at last. The third visit is booked; a new prerequisite stops the dispatch, naming it.
    client.post(f"{V1}/work-order-tasks/{prerequisite(client, w)['id']}/done", headers=h["nina"], json={})
    third = client.post(f"{V1}/work-orders/{w['wo']}/visits", headers=h["alex"], json=slot(clock, 1)).json()["id"]
    wayleave = client.post(f"{V1}/work-orders/{w['wo']}/tasks", headers=h["alex"], json={
        "title": "Landlord's permission to drill the outside wall", "kind": "prerequisite",
        "teamId": w["teams"]["network"], "dueAt": (clock.now() + timedelta(hours=12)).isoformat()})
    assert wayleave.status_code == 201, wayleave.text
    stopped = assert_tmf_error(client.post(f"{V1}/visits/{third}/dispatch", headers=h["fay"],
                                           json={"technicianId": w["ids"]["finn"]}), 409)
    assert "Landlord's permission" in stopped["message"] and "Network team" in stopped["message"]
    wl = next(t for t in wayleave.json()["tasks"] if t["title"].startswith("Landlord"))
    client.post(f"{V1}/work-order-tasks/{wl['id']}/done", headers=h["nina"], json={})
    assert client.post(f"{V1}/visits/{third}/dispatch", headers=h["fay"],
                       json={"technicianId": w["ids"]["finn"]}).status_code == 200
    move(client, w, "P1DT2H")
    assert client.post(f"{V1}/visits/{third}/outcome", headers=h["finn"], json={"outcome": "done"}).status_code == 200

    # The technician drills into a heating pipe and reports it from the field. He may not record a
    # harm on a case directly; the incident route is his way.
    assert_tmf_error(client.post(f"{V1}/cases/{w['case']}/harms", headers=h["finn"], json={
        "kind": "no_heating", "description": "x", "severity": "low"}), 403)
    reported = client.post(f"{V1}/work-orders/{w['wo']}/incidents", headers=h["finn"], json={
        "kind": "damage", "harmKind": "no_heating", "severity": "medium", "visitId": third,
        "description": "Drilled into a heating pipe behind the wall; water off, no heating"})
    assert reported.status_code == 201, reported.text
    incident = reported.json()
    assert incident["harm"]["severity"] == "urgent" and incident["harm"]["reportedSeverity"] == "medium"
    assert incident["caseId"] == w["case"]
    with uow() as s:
        claim = s.get(Task, incident["claimTaskId"])
        assert claim.assignee_id == w["ids"]["alex"] and claim.due_at > clock.now() and claim.status == "open"
    events = client.get(f"{V1}/cases/{w['case']}/events", headers=h["alex"]).json()
    told = next(e for e in events if e.get("kind") == "incident_reported")
    assert told["data"]["told"] == ["Alex Morgan (case owner)", "Fay Dunn (FibreFix Ltd's manager)"]

    # "The fibre works": the product is active, and the case still cannot close.
    with uow() as s:
        from onethread.models import Product

        inventory.change_status(s, clock, SYSTEM, s.get(Product, w["fibre"]), "active", channel="field")
    closing = assert_tmf_error(client.post(f"{V1}/cases/{w['case']}/close", headers=h["alex"], json={
        "outcome": "The fibre works", "customerConfirmed": False}), 409)
    assert "heating pipe" in closing["message"]

    # The subcontractor's own repair is recorded, and closes nothing.
    repaired = client.post(f"{V1}/field-incidents/{incident['id']}/repair", headers=h["finn"],
                           json={"note": "Pipe patched with a clamp"})
    assert repaired.status_code == 200 and repaired.json()["harm"]["resolvedAt"] is None
    assert_tmf_error(client.post(f"{V1}/harms/{incident['harmId']}/resolve", headers=h["alex"],
                                 json={"resolution": "FibreFix says it is repaired"}), 409)
    assert_tmf_error(client.post(f"{V1}/field-incidents/{incident['id']}/confirm", headers=h["finn"],
                                 json={"confirmedBy": "customer", "note": "fine"}), 403)
    assert_tmf_error(client.post(f"{V1}/cases/{w['case']}/close", headers=h["alex"], json={
        "outcome": "Repaired", "customerConfirmed": False}), 409)

    # The subcontractor's record: 3 visits, 2 failed (not its fault), 1 incident: an audit is open
    # for the supplier manager, with the evidence.
    record = client.get(f"{V1}/subcontractors/{sub}", headers=h["sam"]).json()
    assert record["record"]["visits"] == 3 and record["record"]["failedVisitsByCause"] == {"network_connection": 2}
    assert record["record"]["incidentsPer100Visits"] == 33.3
    audits = client.get(f"{V1}/subcontractor-audits", headers=h["sam"], params={"status": "open"}).json()
    assert len(audits) == 1 and audits[0]["owner"]["name"] == "Sam Okafor"
    assert "incidents per 100 visits" in audits[0]["reasons"]
    assert audits[0]["evidence"]["incidentIds"] == [incident["id"]]

    # Edith confirms the heating works: the harm closes (the claim task is still to settle).
    confirmed = client.post(f"{V1}/field-incidents/{incident['id']}/confirm", headers=h["alex"],
                            json={"confirmedBy": "customer", "note": "Mrs Clarke: heating back, wall closed"})
    assert confirmed.status_code == 200 and confirmed.json()["harm"]["resolvedAt"] is not None
    with uow() as s:
        assert s.get(Harm, incident["harmId"]).resolution.startswith("Confirmed by the customer")
        titles = s.scalars(select(TimelineEntry.title).where(TimelineEntry.customer_id == w["customer"])).all()
    assert sum("wasted day" in t for t in titles) == 2
    assert any(t.endswith("the customer's wasted day no. 2") for t in titles)
    assert any(t.startswith("Escalated to Nina Berg (lead of Network team) and Alex Morgan") for t in titles)
