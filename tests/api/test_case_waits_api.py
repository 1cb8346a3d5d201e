"""Waiting on the customer or a third party: the first-response, reply and resolution clocks pause
(the regulator's never do), the sweep leaves them alone, and on resume their due times move by
the paused time; a message from the customer ends a wait on the customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onethread.cases import clocks
from onethread.models import CaseWait
from tests.support.case_actions_api import contact
from tests.support.case_unmerge_api import sign_in
from tests.support.trouble_ticket_api import BASE, PATCH, make_world, open_case
from tests.tmf_schema import assert_tmf_error, validate

V1 = "/api/v1"


@pytest.fixture
def world(uow, clock):
    return make_world(uow, clock)


def ticket(client, world, case_id) -> dict:
    body = client.get(f"{BASE}/{case_id}", headers=world.as_alex).json()
    validate("TMF621", "TroubleTicket", body)
    return body


def clock_of(body: dict, kind: str) -> dict:
    return next(c for c in body["clocks"] if c["kind"] == kind)


def sweep(uow, clock):
    with uow() as s:
        return clocks.sweep(s, clock)


def escalated(client, world, case_id) -> list[str]:
    return [e["clock"] for e in client.get(f"{V1}/cases/{case_id}/escalations", headers=world.as_alex).json()]


def test_a_wait_on_a_third_party_pauses_the_clocks_but_not_the_regulator_and_resume_moves_them(
        client, world, uow, clock):
    # A complaint opened on Monday 2 March 2026 at 09:00 (London = UTC in March): first response
    # due in 4 working hours (13:00), resolution in 4 calendar weeks, the regulator's in 6 and 8.
    case_id = open_case(client, world.as_alex, world.customer, kind="complaint")["id"]
    before = ticket(client, world, case_id)
    assert clock_of(before, "first_response")["dueAt"].startswith("2026-03-02T13:00")
    regulator = clock_of(before, "regulator_deadline")["dueAt"]
    clock.advance(timedelta(hours=1))
    r = client.post(f"{V1}/cases/{case_id}/wait", headers=world.as_alex,
                    json={"on": "third_party", "party": "Openreach", "reason": "line test booked with Openreach"})
    assert r.status_code == 201, r.text
    assert r.json()["on"] == "third_party" and r.json()["party"] == "Openreach"
    assert r.json()["since"].startswith("2026-03-02T10:00") and r.json()["until"] is None and r.headers["ETag"]
    paused = ticket(client, world, case_id)
    assert paused["waitingOn"]["party"] == "Openreach" and paused["waitingOn"]["by"] == "Alex Morgan"
    assert clock_of(paused, "first_response")["state"] == "paused"
    assert clock_of(paused, "resolution_target")["state"] == "paused"
    assert clock_of(paused, "regulator_deadline")["state"] == "running"
    assert paused["status"] != "pending"  # waiting on someone else is not waiting on the customer
    # My work shows what is really due next: the no-activity clock, not the paused first response.
    mine = client.get(f"{V1}/me/work", headers=world.as_alex).json()["cases"]
    assert [c["nextDue"] for c in mine if c["id"] == case_id] == ["activity on the case"]

    # Two days later the first response is long past its old due time: the sweep leaves it alone.
    clock.advance(timedelta(days=2))  # Wednesday 10:00
    sweep(uow, clock)
    assert "first_response" not in escalated(client, world, case_id)
    assert ticket(client, world, case_id)["pausedFor"] == "P2D"

    r = client.post(f"{V1}/cases/{case_id}/resume", json={"reason": "Openreach sent the result"},
                    headers=world.as_alex)
    assert r.status_code == 200, r.text
    assert r.json()["until"].startswith("2026-03-04T10:00") and r.json()["endReason"] == "Openreach sent the result"
    after = ticket(client, world, case_id)
    assert after["waitingOn"] is None and len(after["waits"]) == 1 and after["pausedFor"] == "P2D"
    # 3 working hours were left when it paused: due Wednesday 13:00; the calendar clock moves by 48 h.
    assert clock_of(after, "first_response")["state"] == "running"
    assert clock_of(after, "first_response")["dueAt"].startswith("2026-03-04T13:00")
    assert clock_of(after, "resolution_target")["dueAt"].startswith("2026-04-01T09:00")
    assert clock_of(after, "regulator_deadline")["dueAt"] == regulator

    clock.advance(timedelta(hours=2, minutes=59))
    sweep(uow, clock)
    assert "first_response" not in escalated(client, world, case_id)
    clock.advance(timedelta(minutes=1))
    sweep(uow, clock)
    assert "first_response" in escalated(client, world, case_id)
    breach = clock_of(ticket(client, world, case_id), "first_response")
    assert breach["state"] == "breached" and breach["firedAt"].startswith("2026-03-04T13:00")


def test_a_message_from_the_customer_ends_a_wait_on_the_customer_not_one_on_a_third_party(client, world, clock):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    r = client.post(f"{V1}/cases/{case_id}/wait", headers=world.as_alex,
                    json={"on": "customer", "reason": "asked for the router's serial number"})
    assert r.status_code == 201, r.text
    assert ticket(client, world, case_id)["status"] == "pending"  # waiting on the customer
    clock.advance(timedelta(hours=5))
    r = client.post(f"{V1}/cases/{case_id}/messages", json={"text": "It is RT-99812", "channel": "email"},
                    headers=world.as_alex)
    assert r.status_code == 201, r.text
    body = ticket(client, world, case_id)
    assert body["waitingOn"] is None and body["status"] == "inProgress"
    assert body["waits"][0]["endReason"] == "the customer answered" and body["pausedFor"] == "PT5H"
    assert clock_of(body, "first_response")["state"] == "running"
    assert clock_of(body, "customer_waiting")["state"] == "running"
    events = client.get(f"{V1}/cases/{case_id}/events", headers=world.as_alex).json()
    assert [e["data"]["to"] for e in events if e["kind"] == "status_changed"] == ["waiting_customer", "in_progress"]

    client.post(f"{V1}/cases/{case_id}/wait", headers=world.as_alex,
                json={"on": "third_party", "party": "Landlord", "reason": "access to the building"})
    client.post(f"{V1}/cases/{case_id}/messages", json={"text": "Any news?", "channel": "email"},
                headers=world.as_alex)
    assert ticket(client, world, case_id)["waitingOn"]["party"] == "Landlord"


def test_a_wait_needs_who_and_why_and_a_named_person_and_writes_nothing_when_refused(
        client, world, container, token_for):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    url = f"{V1}/cases/{case_id}/wait"
    assert_tmf_error(client.post(url, json={"on": "neighbour", "reason": "x"}, headers=world.as_alex), 400)
    assert_tmf_error(client.post(url, json={"on": "third_party", "reason": "x"}, headers=world.as_alex), 400)
    assert_tmf_error(client.post(url, json={"on": "customer", "reason": " "}, headers=world.as_alex), 400)
    assert_tmf_error(client.post(url, json={"on": "customer", "reason": "x", "until": "never"},
                                 headers=world.as_alex), 400)
    assert_tmf_error(client.post(url, json={"on": "customer", "reason": "x"}, headers=token_for("admin")), 403)
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/resume", json={}, headers=world.as_alex), 409)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseWait)) == 0
    assert client.post(url, json={"on": "customer", "reason": "photo of the damage"},
                       headers=world.as_alex).status_code == 201
    assert_tmf_error(client.post(url, json={"on": "third_party", "party": "Insurer", "reason": "x"},
                                 headers=world.as_alex), 409)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseWait)) == 1


def test_the_case_page_pauses_and_resumes_and_says_who_the_case_waits_on(client, world, uow, clock):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    sign_in(client, uow, world.alex)
    refused = client.post(f"/cases/{case_id}/wait", data={"on": "third_party", "party": "", "reason": "engineer"})
    assert refused.status_code == 400 and "name the third party" in refused.text
    r = client.post(f"/cases/{case_id}/wait", data={"on": "third_party", "party": "Openreach",
                                                    "reason": "engineer visit booked"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    clock.advance(timedelta(hours=3))
    page = client.get(f"/cases/{case_id}").text
    assert "Paused since" in page and "waiting on Openreach: engineer visit booked" in page
    assert "time paused so far: 3 h" in page and "first response: paused while the case waits" in page
    r = client.post(f"/cases/{case_id}/resume", data={"reason": "engineer came"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/cases/{case_id}").text
    assert "Paused since" not in page and "Time paused so far: 3 h" in page
    assert "resumed: engineer came" in page  # in the case log


def test_closing_a_waiting_case_ends_its_wait(client, world, clock):
    case_id = open_case(client, world.as_alex, world.customer, kind="request")["id"]
    client.post(f"{V1}/cases/{case_id}/wait", headers=world.as_alex,
                json={"on": "third_party", "party": "Housing association", "reason": "permission to drill"})
    clock.advance(timedelta(hours=1))
    r = client.post(f"{V1}/cases/{case_id}/close", json={"outcome": "customer withdrew", "customerConfirmed": True},
                    headers=world.as_alex)
    assert r.status_code == 200, r.text
    body = ticket(client, world, case_id)
    assert body["waitingOn"] is None and body["waits"][0]["endReason"] == "the case was closed"
    assert body["pausedFor"] == "PT1H"
    assert_tmf_error(client.post(f"{V1}/cases/{case_id}/resume", json={}, headers=world.as_alex), 409)


def test_setting_the_status_to_pending_waits_on_the_customer_and_moving_off_it_ends_the_wait(client, world, clock):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    r = client.patch(f"{BASE}/{case_id}", json={"status": "pending", "statusChangeReason": "asked for photos"},
                     headers={**world.as_alex, **PATCH})
    assert r.status_code == 200, r.text
    body = ticket(client, world, case_id)
    assert body["waitingOn"]["on"] == "customer" and body["waitingOn"]["reason"] == "asked for photos"
    assert clock_of(body, "first_response")["state"] == "paused"
    clock.advance(timedelta(hours=2))
    r = client.patch(f"{BASE}/{case_id}", json={"status": "inProgress"}, headers={**world.as_alex, **PATCH})
    assert r.status_code == 200, r.text
    body = ticket(client, world, case_id)
    assert body["waitingOn"] is None and body["pausedFor"] == "PT2H"
    assert clock_of(body, "first_response")["state"] == "running"
    # 4 working hours from 09:00, paused 09:00-11:00: due at 15:00
    assert clock_of(body, "first_response")["dueAt"].startswith("2026-03-02T15:00")


def test_a_call_from_the_customer_ends_a_wait_on_them_but_one_from_before_the_wait_does_not(
        client, world, uow, clock):
    case_id = open_case(client, world.as_alex, world.customer, kind="fault")["id"]
    early = contact(uow, clock, world.customer, "my router blinks red", 1)  # waited in triage
    clock.advance(timedelta(hours=1))
    client.post(f"{V1}/cases/{case_id}/wait", headers=world.as_alex,
                json={"on": "customer", "reason": "asked her to restart the router"})
    r = client.post(f"{V1}/contacts/{early}/route", json={"kind": "fault", "title": "Router", "caseId": case_id},
                    headers=world.as_alex)
    assert r.status_code in (200, 201), r.text
    assert ticket(client, world, case_id)["waitingOn"]["on"] == "customer"
    clock.advance(timedelta(hours=1))
    later = contact(uow, clock, world.customer, "restarted, still red", 2)
    client.post(f"{V1}/contacts/{later}/route", json={"kind": "fault", "title": "Router", "caseId": case_id},
                headers=world.as_alex)
    body = ticket(client, world, case_id)
    assert body["waitingOn"] is None and body["waits"][0]["endReason"] == "the customer answered"
    assert body["waits"][0]["until"].startswith("2026-03-02T11:00")
