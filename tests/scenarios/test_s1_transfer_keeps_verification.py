"""S1 "Defective, not damaged", point 5 (and the hand-over part of 6): a hand-over from the store to
the contact centre is a transfer of the same contact. The receiver sees the story so far and a
verification done earlier in the contact, still valid until it expires, so nobody asks again. A
transfer to the wrong place is bounced back with a reason, and every hop is on the timeline.
"""

from __future__ import annotations

from datetime import date, timedelta

from onethread.access import service as access
from onethread.interactions import service as interactions
from onethread.interactions import timeline
from tests.support.sessions_api import make_customer, make_staff

S = "/api/v1/sessions"


def test_s1_the_contact_centre_sees_the_story_and_does_not_ask_again(client, uow, clock, container):
    sam, store, sam_hdr = make_staff(uow, clock, "sam.store", "Sam Patel", "store_advisor", "Store Leeds", "store")
    _, billing, bea_hdr = make_staff(uow, clock, "bea.billing", "Bea Novak", "back_office", "Billing")
    _, cc, jo_hdr = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    daniel = make_customer(uow, clock, "Daniel", "Okafor", date(2009, 5, 1))  # a long-standing customer
    ttl = timedelta(minutes=container.settings.verification_ttl_minutes)

    # In the store: a session for Daniel, security questions (level 2), the story recorded.
    r = client.post(S, json={"channel": "store", "customerId": daniel}, headers=sam_hdr)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    v = client.post(f"{S}/{sid}/verifications", json={"method": "security_questions", "level": 2}, headers=sam_hdr)
    assert v.status_code == 201, v.text
    verified_at = clock.now()
    clock.advance(timedelta(minutes=3))
    story = "Handset bought 3 days ago: no sound from the headphone jack. Wants a replacement, not an assessment."
    with uow() as s:
        sam_principal = access.staff_principal(access.active_user(s, sam))
        interactions.record(s, clock, sam_principal, interactions.Intake(
            channel="store", direction="inbound", occurred_at=clock.now(), kind="visit_note", text=story,
            session_id=sid), region="GB")

    # Put through to the wrong line first: billing sends it back, saying why.
    clock.advance(timedelta(minutes=2))
    wrong = client.post(f"{S}/{sid}/transfers", json={"toTeamId": billing, "reason": "handset fault",
                                                      "note": "customer wants a replacement"}, headers=sam_hdr)
    assert wrong.status_code == 201, wrong.text
    assert wrong.json()["session"]["holder"] == {"staff": None, "team": {"id": billing, "name": "Billing"}}
    clock.advance(timedelta(minutes=4))
    back = client.post(f"{S}/{sid}/bounce", json={"reason": "not a billing matter: device fault, try the contact "
                                                            "centre"}, headers=bea_hdr)
    assert back.status_code == 201, back.text
    assert back.json()["session"]["holder"] == {"staff": {"id": sam, "name": "Sam Patel"},
                                                "team": {"id": store, "name": "Store Leeds"}}

    # The store transfers the same contact to the contact centre with the story so far.
    clock.advance(timedelta(minutes=1))
    note = "Nimbus X2 bought 3 days ago, headphone jack dead (known defect?). Verified in store: security questions."
    moved = client.post(f"{S}/{sid}/transfers", json={"toTeamId": cc, "reason": "replacement order",
                                                      "note": note}, headers=sam_hdr)
    assert moved.status_code == 201, moved.text

    # The agent opens it: the note, the contacts so far, and a verification still valid.
    clock.advance(timedelta(minutes=5))
    seen = client.get(f"{S}/{sid}", params={"requiredLevel": 2}, headers=jo_hdr)
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert view["status"] == "live" and view["channel"] == "store"
    assert view["customer"] == {"id": daniel, "name": "Daniel Okafor"}
    assert view["holder"] == {"staff": None, "team": {"id": cc, "name": "Contact centre"}}
    assert [c["text"] for c in view["contacts"]] == [story]
    assert view["contacts"][0]["actor"] == "Sam Patel"
    hops = view["hops"]
    assert [(h["kind"], h["to"]["team"]["name"]) for h in hops] == [
        ("transfer", "Billing"), ("bounce", "Store Leeds"), ("transfer", "Contact centre")]
    assert hops[0]["from"]["staff"] == {"id": sam, "name": "Sam Patel"}
    assert hops[1]["from"]["team"]["name"] == "Billing" and hops[1]["to"]["staff"]["name"] == "Sam Patel"
    assert hops[1]["reason"].startswith("not a billing matter")
    assert hops[2]["note"] == note and hops[2]["reason"] == "replacement order"
    assert [h["at"] for h in hops] == sorted(h["at"] for h in hops)
    ver = view["verification"]
    assert ver["method"] == "security_questions" and ver["level"] == 2
    assert ver["verifiedBy"]["name"] == "Sam Patel"
    assert ver["expiresAt"] == (verified_at + ttl).isoformat()
    assert view["verificationNeeded"] is False  # nobody asks again

    # Past the expiry the same view says: ask again.
    clock.set(verified_at + ttl)
    later = client.get(f"{S}/{sid}", params={"requiredLevel": 2}, headers=jo_hdr).json()
    assert later["verification"] is None and later["verificationNeeded"] is True

    # Every hop (and the verification, and the story) is on Daniel's timeline, with who and when.
    with uow() as s:
        entries = timeline.read(s, daniel, limit=200).entries
    by_title = {}
    for e in entries:
        by_title.setdefault(e.title, []).append(e)
    assert [e.detail for e in by_title["Contact transferred"]] == ["replacement order", "handset fault"]
    (bounced,) = by_title["Transfer bounced back"]
    assert bounced.detail.startswith("not a billing matter") and bounced.actor_name == "Bea Novak"
    assert [e.actor_name for e in by_title["Contact transferred"]] == ["Sam Patel", "Sam Patel"]
    assert "Identity verified (security questions, level 2)" in by_title
    assert any(e.detail == story for e in entries if e.kind == "contact")
    assert all(e.ref_id == sid for t in ("Contact transferred", "Transfer bounced back") for e in by_title[t])
