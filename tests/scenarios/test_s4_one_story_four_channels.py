"""S4 "The SIM that was thrown away": one story told four times, on one record.

A business customer renews on 10 March and the store removes the old tablet SIM. The April bill
still charges for it; the customer tells the store (a visit and the advisor's note), an online
form, the helpline (a call transferred to billing) and Twitter. Every one of those contacts lands
on the one customer's timeline, in order, with who recorded it; none waits in the match queue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from onethread.access.rules import SYSTEM
from onethread.db.session import session_scope
from onethread.demo import worlds
from onethread.interactions import service as interactions
from onethread.interactions import timeline
from onethread.inventory import service as inventory
from tests.tmf_schema import validate

C = "/api/v1/channels"
TMF = "/tmf-api/partyInteraction/v5/partyInteraction"


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def business_customer(uow, clock) -> dict:
    """Harbour Lane Joinery: three lines, a tablet SIM, an e-mail and a social handle since 2015-2018."""
    with uow() as s:
        joinery = worlds.s4_joinery(worlds.Builder(s, clock), tablet_name="Tablet data SIM (old iPad)")
        cust, tablet = joinery.customer, joinery.tablet
        users, teams = worlds.staff(s, clock, [("sam.store", "Sam Store", "store_advisor", None),
                                               ("jo.agent", "Jo Agent", "agent", None)],
                                    [("Billing", "contact_centre", None)])
        billing, advisor, agent = teams["Billing"], users["sam.store"], users["jo.agent"]
        return {"customer": cust.id, "tablet": tablet.id, "billing": billing.id, "advisor": advisor.id,
                "agent": agent.id}


def test_s4_the_same_story_through_store_form_phone_and_twitter_is_one_customers_story(
        client, token_for, uow, clock, container):
    clock.set(on(date(2026, 3, 1), 9))
    j = business_customer(uow, clock)
    store, web, pbx = token_for("store_advisor"), token_for("integration"), token_for("integration")

    # 10 March: renewal; the store removes the tablet SIM and bins it (recorded with its date).
    clock.set(on(date(2026, 3, 10), 11))
    with uow() as s:
        tablet = inventory.get_product(s, j["tablet"])
        inventory.change_status(s, clock, SYSTEM, tablet, "terminated", channel="store",
                                reason="removed at renewal; SIM destroyed in store")

    # 21 April, the store: the customer checks in with his account number; the advisor notes the story.
    clock.set(on(date(2026, 4, 21), 10))
    visit = client.post(f"{C}/store/visits", json={"visitId": "HS-0421-07", "accountNumber": "ACC-400401",
                                                   "advisorId": j["advisor"], "reason": "Billing error"},
                        headers=store)
    assert visit.status_code == 201, visit.text
    clock.set(on(date(2026, 4, 21), 10, 12))
    note = client.post(f"{C}/store/visits/{visit.json()['sessionId']}/notes",
                       json={"noteId": "HS-0421-07-n1",
                             "text": "April bill still charges the old tablet SIM removed here at renewal."},
                       headers=store)
    assert note.status_code == 201, note.text
    assert client.post(f"{C}/store/visits/{visit.json()['sessionId']}/end", headers=store).status_code == 200

    # 9 May, the online form, from his e-mail address.
    clock.set(on(date(2026, 5, 9), 20, 30))
    form = client.post(f"{C}/web-forms", json={"submissionId": "WF-88812", "formName": "billing-complaint",
                                               "email": "Mark@HarbourLane.example", "subject": "Billing error",
                                               "text": "Charged again in May for a SIM you destroyed in March."},
                       headers=web)
    assert form.status_code == 201, form.text

    # 20 May, the helpline: the call is answered, transferred to billing, and ends.
    clock.set(on(date(2026, 5, 20), 14))
    call = client.post(f"{C}/telephony/events", json={
        "event": "started", "callId": "ACD-5521", "at": clock.now().isoformat(), "callingNumber": "+447700900401",
        "calledNumber": "0800 800 150", "agentId": j["agent"]}, headers=pbx)
    assert call.status_code == 201, call.text
    clock.set(on(date(2026, 5, 20), 14, 6))
    moved = client.post(f"{C}/telephony/events", json={
        "event": "transferred", "callId": "ACD-5521", "at": clock.now().isoformat(), "toTeamId": j["billing"],
        "reason": "credit for April and May"}, headers=pbx)
    assert moved.status_code == 201, moved.text
    clock.set(on(date(2026, 5, 20), 14, 19))
    ended = client.post(f"{C}/telephony/events", json={"event": "ended", "callId": "ACD-5521",
                                                       "at": clock.now().isoformat()}, headers=pbx)
    assert ended.status_code == 200, ended.text

    # 2 June, Twitter (the social webhook is built elsewhere: record the post directly).
    clock.set(on(date(2026, 6, 2), 8, 45))
    with uow() as s:
        tweet = interactions.record(s, clock, SYSTEM, interactions.Intake(
            channel="social", direction="inbound", occurred_at=clock.now(), kind="post",
            text="Third month of being billed for a SIM that is in your store's bin.",
            channel_message_id="x-1797000000000000001", identifiers={"social": "x:@harbourlanejoin"},
            extra={"platform": "x"}), region=container.settings.default_region)
        tweet_id, tweet_session = tweet.contact.id, tweet.contact.session_id
    assert tweet_session is None  # the call had ended: the post joins no session

    ours = [visit.json(), note.json(), form.json(), call.json()]
    assert {c["customerId"] for c in ours} == {j["customer"]}
    assert {c["matchStatus"] for c in ours} == {"matched"}

    with session_scope(container.sessions) as s:
        assert interactions.open_match_items(s) == []  # nobody had to be matched by hand
        entries = list(reversed(timeline.read(s, j["customer"], limit=200).entries))  # oldest first
    contacts = [e for e in entries if e.kind == "contact"]
    assert [e.ref_id for e in contacts] == [visit.json()["id"], note.json()["id"], form.json()["id"],
                                            call.json()["id"], tweet_id]
    assert [e.channel for e in contacts] == ["store", "store", "portal", "phone", "social"]
    assert [e.occurred_at for e in contacts] == sorted(e.occurred_at for e in contacts)
    assert all(e.actor_name for e in contacts)  # who recorded each one
    assert "April bill still charges" in contacts[1].detail
    # The hand-over is on the timeline too, between the call and the tweet.
    kinds = [(e.kind, e.title) for e in entries if e.occurred_at >= contacts[3].occurred_at]
    assert ("session", "Contact transferred") in kinds
    assert kinds.index(("session", "Contact transferred")) < kinds.index(("contact", contacts[4].title))

    # Through TMF683: the customer's contacts, newest first, each naming the one customer.
    listed = client.get(TMF, params={"relatedParty.id": j["customer"]}, headers=store)
    assert listed.headers["X-Total-Count"] == "5"
    for item in listed.json():
        validate("TMF683", "PartyInteraction", item)
        assert item["relatedParty"][0]["partyOrPartyRole"]["id"] == j["customer"]
        assert item["status"] == "completed"
    assert [i["relatedChannel"][0]["channel"]["id"] for i in listed.json()] == [
        "social", "phone", "portal", "store", "store"]

    # Redelivered by every channel, the story does not grow.
    assert client.post(f"{C}/web-forms", json={"submissionId": "WF-88812", "email": "mark@harbourlane.example",
                                               "subject": "Billing error", "text": "again"},
                       headers=web).status_code == 200
    assert client.post(f"{C}/telephony/events", json={
        "event": "started", "callId": "ACD-5521", "at": on(date(2026, 5, 20), 14).isoformat(),
        "callingNumber": "+447700900401"}, headers=pbx).status_code == 200
    assert client.get(TMF, params={"relatedParty.id": j["customer"]}, headers=store).headers["X-Total-Count"] == "5"
