"""``/api/v1/sessions``: start, identify, verify, transfer, bounce, end, and the receiver's view."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.interactions import service as interactions
from onethread.models import AuditEntry, ContactSession, MatchItem, SessionHop, Verification
from tests.support.sessions_api import S, make_customer, make_staff, start
from tests.tmf_schema import assert_tmf_error

# --- helpers shared with the scenario tests -------------------------------------------------


# --- tests ------------------------------------------------------------------------------------

def test_start_sets_the_holder_and_a_repeat_external_id_returns_the_same_session(client, uow, clock):
    sam, store, hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    cid = make_customer(uow, clock, "Dan", "Okafor")
    body = start(client, hdr, customerId=cid)
    assert body["@type"] == "ContactSession" and body["status"] == "live"
    assert body["holder"] == {"staff": {"id": sam, "name": "Sam Patel"}, "team": {"id": store, "name": "Store Leeds"}}
    assert body["customer"] == {"id": cid, "name": "Dan Okafor"}
    assert body["verification"] is None and body["verificationNeeded"] is True
    assert body["contacts"] == [] and body["hops"] == []

    call = client.post(S, json={"channel": "phone", "externalId": "call-42"}, headers=hdr)
    assert call.status_code == 201 and call.headers["Location"] == f"{S}/{call.json()['id']}"
    again = client.post(S, json={"channel": "phone", "externalId": "call-42"}, headers=hdr)
    assert again.status_code == 200 and again.json()["id"] == call.json()["id"]


def test_identify_then_verify_and_the_view_says_whether_to_ask_again(client, uow, clock, container):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    cid = make_customer(uow, clock, "Priya", "Shah")
    sid = client.post(S, json={"channel": "phone", "externalId": "c-1"}, headers=hdr).json()["id"]
    # nobody to verify yet
    assert_tmf_error(client.post(f"{S}/{sid}/verifications", json={"method": "one_time_code", "level": 2},
                                 headers=hdr), 409)
    r = client.post(f"{S}/{sid}/identify", json={"customerId": cid}, headers=hdr)
    assert r.status_code == 200 and r.json()["customer"]["name"] == "Priya Shah"
    v = client.post(f"{S}/{sid}/verifications", json={"method": "one_time_code", "level": 2}, headers=hdr)
    assert v.status_code == 201, v.text
    ttl = container.settings.verification_ttl_minutes
    assert v.json()["verifiedBy"]["name"] == "Jo Reyes"  # the person, not the token
    assert v.json()["expiresAt"] == (clock.now() + timedelta(minutes=ttl)).isoformat()

    view = client.get(f"{S}/{sid}", params={"requiredLevel": 2}, headers=hdr).json()
    assert view["verification"]["level"] == 2 and view["verificationNeeded"] is False
    assert client.get(f"{S}/{sid}", params={"requiredLevel": 3}, headers=hdr).json()["verificationNeeded"] is True
    clock.advance(timedelta(minutes=ttl))
    view = client.get(f"{S}/{sid}", params={"requiredLevel": 2}, headers=hdr).json()
    assert view["verification"] is None and view["verificationNeeded"] is True


def test_identifying_takes_the_sessions_queued_contacts_off_the_match_queue(client, uow, clock):
    _, _, hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    cid = make_customer(uow, clock, "Priya", "Shah")
    sid = client.post(S, json={"channel": "phone"}, headers=hdr).json()["id"]
    with uow() as s:
        rec = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="phone", direction="inbound", occurred_at=clock.now(), kind="call", text="calling from a new SIM",
            identifiers={"msisdn": "07700 900777"}, session_id=sid), region="GB")
        spam = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="phone", direction="inbound", occurred_at=clock.now(), kind="call", text="robocall",
            identifiers={"msisdn": "07700 900666"}, session_id=sid), region="GB")
        assert rec.match_item is not None and spam.match_item is not None
    client.post(f"/api/v1/match-queue/{spam.match_item.id}/dismiss", json={"reason": "robocall"}, headers=hdr)
    client.post(f"{S}/{sid}/identify", json={"customerId": cid}, headers=hdr)
    assert client.get("/api/v1/match-queue", headers=hdr).json() == []
    contacts = {c["text"]: c for c in client.get(f"{S}/{sid}", headers=hdr).json()["contacts"]}
    assert contacts["calling from a new SIM"]["customerId"] == cid
    assert contacts["robocall"]["customerId"] is None  # a person dismissed it: it stays with nobody
    # and it cannot be re-identified as somebody else
    other = make_customer(uow, clock, "Tom", "Bennett")
    assert_tmf_error(client.post(f"{S}/{sid}/identify", json={"customerId": other}, headers=hdr), 409)


def test_transfer_to_a_person_goes_to_their_team_and_bounce_returns_it(client, uow, clock):
    sam, store, hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    jo, cc, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    sid = start(client, hdr)["id"]
    r = client.post(f"{S}/{sid}/transfers", json={"toStaffId": jo, "reason": "order", "note": "jack broken"},
                    headers=hdr)
    assert r.status_code == 201, r.text
    hop = r.json()
    assert hop["@type"] == "SessionHop" and hop["kind"] == "transfer"
    assert hop["from"] == {"staff": {"id": sam, "name": "Sam Patel"}, "team": {"id": store, "name": "Store Leeds"}}
    assert hop["to"] == {"staff": {"id": jo, "name": "Jo Reyes"}, "team": {"id": cc, "name": "Contact centre"}}
    assert hop["session"]["holder"]["staff"]["id"] == jo
    back = client.post(f"{S}/{sid}/bounce", json={"reason": "store can order this"}, headers=jo_hdr)
    assert back.status_code == 201
    assert back.json()["session"]["holder"]["staff"]["id"] == sam
    # a bounce of a bounce is refused: transfer it to the right place instead
    assert_tmf_error(client.post(f"{S}/{sid}/bounce", json={"reason": "again"}, headers=hdr), 409)


def test_end_closes_the_session_and_its_verification(client, uow, clock):
    _, _, hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    cid = make_customer(uow, clock, "Dan", "Okafor")
    sid = start(client, hdr, customerId=cid)["id"]
    client.post(f"{S}/{sid}/verifications", json={"method": "id_document", "level": 3}, headers=hdr)
    r = client.post(f"{S}/{sid}/end", headers=hdr)
    assert r.status_code == 200 and r.json()["status"] == "ended" and r.json()["endedAt"]
    clock.advance(timedelta(seconds=1))
    assert client.get(f"{S}/{sid}", headers=hdr).json()["verificationNeeded"] is True
    assert client.post(f"{S}/{sid}/end", headers=hdr).status_code == 200  # idempotent
    for path, body in [("transfers", {"toTeamId": "X", "reason": "r", "note": "n"}), ("bounce", {"reason": "r"}),
                       ("verifications", {"method": "id_document", "level": 1}), ("identify", {"customerId": cid})]:
        assert_tmf_error(client.post(f"{S}/{sid}/{path}", json=body, headers=hdr), 409)


def test_bad_input_is_a_tmf_4xx_and_writes_nothing(client, uow, clock, container):
    _, _, hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    cid = make_customer(uow, clock, "Dan", "Okafor")
    sid = start(client, hdr, customerId=cid)["id"]
    cases = [
        (client.post(S, json={"channel": "pigeon"}, headers=hdr), 400),
        (client.post(S, json={"channel": "store", "shoeSize": 42}, headers=hdr), 400),
        (client.post(S, json={"channel": "store", "customerId": "NOPE"}, headers=hdr), 404),
        (client.post(S, content=b"{", headers={**hdr, "Content-Type": "application/json"}), 400),
        (client.get(f"{S}/NOPE", headers=hdr), 404),
        (client.get(f"{S}/{sid}", params={"requiredLevel": 9}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/identify", json={"customerId": "NOPE"}, headers=hdr), 404),
        (client.post(f"{S}/{sid}/verifications", json={"method": "telepathy", "level": 1}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/verifications", json={"method": "account_pin", "level": 2}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/verifications", json={"method": "account_pin", "level": 0}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/transfers", json={"reason": "r", "note": "n"}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/transfers", json={"toTeamId": "NOPE", "reason": "r", "note": "n"}, headers=hdr), 404),
        (client.post(f"{S}/{sid}/transfers", json={"toStaffId": "NOPE", "reason": "r", "note": "n"}, headers=hdr),
         404),
        (client.post(f"{S}/{sid}/transfers", json={"toTeamId": "X", "reason": "  ", "note": "n"}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/transfers", json={"toTeamId": "X", "reason": "r"}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/bounce", json={"reason": ""}, headers=hdr), 400),
        (client.post(f"{S}/{sid}/bounce", json={"reason": "never transferred"}, headers=hdr), 409),
        (client.post(f"{S}/NOPE/end", headers=hdr), 404),
    ]
    for response, status in cases:
        assert_tmf_error(response, status)
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ContactSession)) == 1
        assert s.scalar(select(func.count()).select_from(Verification)) == 0
        assert s.scalar(select(func.count()).select_from(SessionHop)) == 0
        assert s.scalar(select(func.count()).select_from(MatchItem)) == 0


def test_who_may_call(client, uow, clock, token_for):
    _, _, hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    sid = start(client, hdr)["id"]
    assert_tmf_error(client.get(f"{S}/{sid}"), 401)
    assert_tmf_error(client.post(S, json={"channel": "store"}), 401)
    assert_tmf_error(client.get(f"{S}/{sid}", headers=token_for("field_subcontractor")), 403)
    assert_tmf_error(client.post(f"{S}/{sid}/end", headers=token_for("integration")), 403)
    # telephony (an integration) may open the call's session; it has no holder until a person takes it
    r = client.post(S, json={"channel": "phone", "externalId": "pbx-9"}, headers=token_for("integration"))
    assert r.status_code == 201 and r.json()["holder"] == {"staff": None, "team": None}


def test_reading_a_session_about_a_customer_is_audited(client, uow, clock, container):
    _, _, hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    cid = make_customer(uow, clock, "Dan", "Okafor")
    sid = start(client, hdr, customerId=cid)["id"]
    client.get(f"{S}/{sid}", headers=hdr)
    with container.sessions() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.customer_id == cid,
                                                   AuditEntry.resource_type == "contact_session")).all()
    assert len(reads) == 2 and {r.resource_id for r in reads} == {sid}
