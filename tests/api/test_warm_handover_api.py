"""``POST /api/v1/cases/warm-handovers``: the store's warm hand-over for every channel. The case (opened
or taken), the hand-over with the story, and the live contact with its verification go together, or
nothing is written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.models import Case, CaseEvent, Contact, Handover, SessionHop, StaffUser
from tests.support.sessions_api import make_customer, make_staff, start
from tests.tmf_schema import assert_tmf_error

URL = "/api/v1/cases/warm-handovers"
STORY = "Headphone jack dead since day one; known Nova X2 fault; doorstep swap promised; ID checked in store."


def counts(uow) -> dict[str, int]:
    with uow() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (Case, Handover, Contact, SessionHop, CaseEvent)}


def setup(client, uow, clock):
    sam, _, as_sam = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    alex, centre, as_alex = make_staff(uow, clock, "alex.agent", "Alex Morgan", "agent", "Contact centre")
    cid = make_customer(uow, clock, "Dan", "Okafor")
    return sam, as_sam, alex, centre, as_alex, cid


def body(cid: str, to: str, **changes) -> dict:
    return {"customerId": cid, "kind": "fault", "title": "Headphone jack", "customerAccount": "it never worked",
            "toOwnerId": to, "note": STORY, "channel": "store", **changes}


def test_a_handover_nobody_can_take_opens_no_case_and_moves_no_visit(client, uow, clock):
    sam, as_sam, alex, _, _, cid = setup(client, uow, clock)
    visit = start(client, as_sam, customerId=cid)
    before = counts(uow)

    unknown = assert_tmf_error(client.post(URL, headers=as_sam, json=body(cid, "NOBODY")), 404)
    assert unknown["message"] == "no active staff member NOBODY"
    with uow() as s:
        s.get(StaffUser, alex).away = True
    away = assert_tmf_error(client.post(URL, headers=as_sam, json=body(cid, alex)), 409)
    assert "marked away" in away["message"]
    with uow() as s:
        s.get(StaffUser, alex).away = False

    for bad, status, words in (
        (body(cid, alex, note="  "), 400, "story so far"),
        (body(cid, alex, title=""), 400, "title"),
        (body(cid, alex, kind="gossip"), 400, "kind must be one of"),
        (body(cid, alex, channel="pigeon"), 400, "channel must be one of"),
        (body(cid, alex, note="x" * 2001), 400, "note"),
        (body(cid, alex, shoeSize=44), 400, "unknown field"),
        (body("NOPE", alex), 404, "no customer"),
        (body(cid, alex, sessionId="NOPE"), 404, "no contact session"),
    ):
        assert words in assert_tmf_error(client.post(URL, headers=as_sam, json=bad), status)["message"], bad
    assert counts(uow) == before

    other = make_customer(uow, clock, "Eve", "Other")
    with uow() as s:  # someone else's case is refused by name, and nothing is written either
        theirs = cases.open_new(s, clock, SYSTEM, customer_id=other, kind="fault", title="Theirs",
                                opened_via="phone", owner_id=alex).id
    before = counts(uow)
    refused = assert_tmf_error(client.post(URL, headers=as_sam, json=body(cid, alex, caseId=theirs)), 400)
    assert refused["message"] == "that case is not this customer's"
    assert counts(uow) == before
    assert client.get(f"/api/v1/sessions/{visit['id']}", headers=as_sam).json()["holder"]["staff"]["id"] == sam

    # Roles: customer-service staff only.
    field_tech = make_staff(uow, clock, "fred.field", "Fred Field", "field_subcontractor")[2]
    assert_tmf_error(client.post(URL, headers=field_tech, json=body(cid, alex)), 403)
    assert_tmf_error(client.post(URL, json=body(cid, alex)), 401)
    assert counts(uow) == before


def test_the_story_lands_on_the_case_and_the_store_visit_goes_with_its_verification(client, uow, clock):
    sam, as_sam, alex, centre, as_alex, cid = setup(client, uow, clock)
    visit = start(client, as_sam, customerId=cid)
    checked = client.post(f"/api/v1/sessions/{visit['id']}/verifications", headers=as_sam,
                          json={"method": "id_document", "level": 3})
    assert checked.status_code == 201, checked.text
    clock.advance(timedelta(minutes=5))

    r = client.post(URL, headers=as_sam, json=body(cid, alex))
    assert r.status_code == 201, r.text
    out = r.json()
    case_id = out["case"]["id"]
    assert out["@type"] == "WarmHandover" and out["caseOpened"] is True
    assert r.headers["Location"].endswith(f"/troubleTicket/{case_id}") and r.headers["ETag"]
    assert out["case"]["owner"] == {"id": sam, "name": "Sam Patel"}  # the advisor holds it until it is accepted
    assert out["handover"]["status"] == "pending" and out["handover"]["to"] == {"id": alex, "name": "Alex Morgan"}
    assert out["handover"]["reason"] == STORY
    assert out["session"]["id"] == visit["id"] and out["session"]["transferredTo"] == {"id": alex, "teamId": centre}

    with uow() as s:
        case = s.get(Case, case_id)
        assert case.opened_via == "store" and case.customer_account == "it never worked"
        contact = s.get(Contact, out["session"]["contactId"])
        assert contact.case_id == case_id and contact.session_id == visit["id"] and contact.text == STORY
        assert contact.channel == "store" and contact.subject == "Store visit: Headphone jack"

    # The receiver sees the story on the case and the visit with the check still valid: nobody asks again.
    seen = client.get(f"/api/v1/sessions/{visit['id']}", headers=as_alex).json()
    assert seen["holder"]["staff"]["id"] == alex
    assert seen["verification"]["method"] == "id_document" and seen["verificationNeeded"] is False
    assert [h["reason"] for h in seen["hops"]] == ["warm hand-over from the store"]
    log = client.get(f"/api/v1/cases/{case_id}/events", headers=as_alex).json()
    stories = {e["kind"]: e["text"] for e in log}
    assert stories["handover_requested"] == STORY and stories["contact_linked"] == STORY
    accepted = client.post(f"/api/v1/handovers/{out['handover']['id']}/accept", headers=as_alex)
    assert accepted.status_code == 200 and accepted.json()["case"]["owner"]["id"] == alex


def test_a_call_hands_over_an_open_case_and_its_session_and_a_closed_case_is_refused(client, uow, clock):
    _, _, alex, _, as_alex, cid = setup(client, uow, clock)
    kim, _, as_kim = make_staff(uow, clock, "kim.spec", "Kim Lee", "specialist", "Complaints")
    call = start(client, as_alex, customerId=cid, channel="phone")
    with uow() as s:
        me = s.get(StaffUser, alex)
        open_id = cases.open_new(s, clock, SYSTEM, customer_id=cid, kind="complaint", title="No calls for weeks",
                                 opened_via="phone", owner_id=me.id).id
        closed = cases.open_new(s, clock, SYSTEM, customer_id=cid, kind="fault", title="Old", opened_via="phone",
                                owner_id=me.id)
        closed.status = "closed"
        closed_id = closed.id
    before = counts(uow)
    shut = assert_tmf_error(client.post(URL, headers=as_alex, json={
        "customerId": cid, "caseId": closed_id, "toOwnerId": kim, "note": "over to you", "channel": "phone"}), 409)
    assert "closed" in shut["message"]
    assert counts(uow) == before

    r = client.post(URL, headers=as_alex, json={"customerId": cid, "caseId": open_id, "toOwnerId": kim,
                                                "note": "Third call this month; she wants a person.",
                                                "channel": "phone", "sessionId": call["id"]})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["caseOpened"] is False and out["case"]["id"] == open_id
    assert out["session"]["id"] == call["id"]
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == before["Case"]
        contact = s.get(Contact, out["session"]["contactId"])
        assert contact.channel == "phone" and contact.case_id == open_id
    assert client.get(f"/api/v1/sessions/{call['id']}", headers=as_kim).json()["holder"]["staff"]["id"] == kim

    # Without a live session the hand-over still goes; nothing to transfer.
    other = make_customer(uow, clock, "Ann", "Quiet")
    r = client.post(URL, headers=as_alex, json=body(other, kim, channel="email"))
    assert r.status_code == 201, r.text
    assert r.json()["session"] is None and r.json()["caseOpened"] is True
