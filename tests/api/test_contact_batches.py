"""POST /api/v1/contact-batches: many contacts in one request, each recorded as the single
endpoint records it; all or none."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.db.outbox import OutboxEvent
from onethread.models import Contact, MatchItem, TimelineEntry
from tests.support.party_interaction_api import BASE, counts, make_customer
from tests.tmf_schema import assert_tmf_error, validate

URL = "/api/v1/contact-batches"


def item(message_id: str | None, msisdn: str | None = None, *, at: str = "2026-03-02T10:00:00Z",
         channel: str = "phone", text: str = "Still no signal at home", **extra) -> dict:
    out = {"@type": "OnethreadPartyInteraction", "direction": "inbound", "reason": "No signal",
           "description": text, "interactionDate": {"startDateTime": at},
           "relatedChannel": [{"@type": "RelatedChannel", "role": "interactionChannel",
                               "channel": {"@type": "ChannelRef", "id": channel}}], **extra}
    if message_id:
        out["externalIdentifier"] = [{"@type": "ExternalIdentifier", "id": message_id, "owner": "gateway",
                                      "externalIdentifierType": "messageId"}]
    if msisdn:
        out["identifiers"] = {"msisdn": msisdn}
    return out


def test_a_batch_is_recorded_as_the_single_endpoint_records_each_contact(client, admin, uow, clock, container):
    ann = make_customer(uow, clock, "Ann", "Lee", "07700 900001")
    bob = make_customer(uow, clock, "Bob", "Ray", "07700 900002")
    single = client.post(BASE, json=item("G-1", "07700900001"), headers=admin)
    assert single.status_code == 201
    before = counts(container)
    batch = [item("G-1", "07700900001"),                      # a redelivery of the one above
             item("G-2", "+447700900002", text="Bill too high"),
             item("G-3", "07700 900 999"),                    # nobody holds it: the match queue
             item(None, "07700900001", channel="email", text="no message id"),
             item("G-5", "not a number")]                     # junk identifier: queued, as alone
    r = client.post(URL, json={"partyInteraction": batch}, headers=admin)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["created"], got["redelivered"]) == (4, 1)
    assert [x["status"] for x in got["results"]] == [200, 201, 201, 201, 201]
    assert got["results"][0]["id"] == single.json()["id"]
    for x in got["results"]:
        validate("TMF683", "PartyInteraction", x["partyInteraction"])
        assert x["href"] == f"{BASE}/{x['id']}" == x["partyInteraction"]["href"]
    who = [(x["partyInteraction"].get("relatedParty") or [{}])[0].get("partyOrPartyRole", {}).get("id")
           for x in got["results"]]
    assert who == [ann, bob, None, ann, None]
    assert [x["partyInteraction"]["matchStatus"] for x in got["results"]] == \
        ["matched", "matched", "queued", "matched", "queued"]
    after = counts(container)
    assert after["Contact"] - before["Contact"] == 4
    assert after["MatchItem"] - before["MatchItem"] == 2
    assert after["OutboxEvent"] - before["OutboxEvent"] == 4
    assert after["TimelineEntry"] - before["TimelineEntry"] >= 2  # the two matched customers' timelines
    with container.sessions() as s:
        stored = s.get(Contact, got["results"][1]["id"])
        assert stored.identifiers == {"msisdn": "+447700900002"} and stored.customer_id == bob
        lines = s.scalars(select(TimelineEntry.ref_id).where(TimelineEntry.customer_id == bob)).all()
        assert got["results"][1]["id"] in lines
        queued = s.scalar(select(MatchItem).where(MatchItem.contact_id == got["results"][2]["id"]))
        assert queued.reason == "no_match"
    # and a read of one of them is the same contact the batch answered with
    one = client.get(f"{BASE}/{got['results'][1]['id']}", headers=admin).json()
    assert one["id"] == got["results"][1]["id"] and one["description"] == "Bill too high"


def test_batch_and_single_contacts_are_stored_alike(client, admin, uow, clock, container):
    make_customer(uow, clock, "Ann", "Lee", "07700 900001")
    make_customer(uow, clock, "Bob", "Ray", "07700 900002")
    numbers = ["07700900001", "07700900002", "07700900003", None, "+44 7700 900002", "junk"]
    for n, number in enumerate(numbers):
        assert client.post(BASE, json=item(f"S-{n}", number, text=f"contact {n}"), headers=admin).status_code == 201
    r = client.post(URL, json={"partyInteraction": [item(f"B-{n}", number, text=f"contact {n}")
                                                    for n, number in enumerate(numbers)]}, headers=admin)
    assert r.status_code == 200, r.text

    def stored(prefix: str) -> list[tuple]:
        with container.sessions() as s:
            rows = []
            for n in range(len(numbers)):
                c = s.scalar(select(Contact).where(Contact.channel_message_id == f"{prefix}-{n}"))
                event = s.scalar(select(OutboxEvent).where(OutboxEvent.aggregate_id == c.id))
                line = s.scalar(select(TimelineEntry).where(TimelineEntry.ref_id == c.id))
                item_ = s.scalar(select(MatchItem).where(MatchItem.contact_id == c.id))
                payload = {k: v for k, v in event.payload.items()}
                rows.append((c.customer_id, c.match_status, c.identifiers, c.kind, c.text, c.actor_name,
                             event.type, payload, line and (line.title, line.detail),
                             item_ and (item_.reason, sorted(item_.candidates or []), item_.explanation)))
            return rows

    assert stored("B") == stored("S")


def test_the_holder_at_each_contacts_time_even_when_the_number_was_recycled(client, admin, uow, clock):
    old = make_customer(uow, clock, "Old", "Holder", "07700 900777")
    new = make_customer(uow, clock, "New", "Holder", "07700 900888")
    with uow() as s:
        identifier_service.move(s, clock, SYSTEM, kind="msisdn", value="07700900777", to_customer_id=new,
                                at=datetime(2026, 3, 10, tzinfo=UTC), region="GB")
    r = client.post(URL, json={"partyInteraction": [
        item("R-1", "07700900777", at="2026-03-05T10:00:00Z"),
        item("R-2", "07700900777", at="2026-03-12T10:00:00Z")]}, headers=admin)
    assert r.status_code == 200, r.text
    owners = [x["partyInteraction"]["relatedParty"][0]["partyOrPartyRole"]["id"] for x in r.json()["results"]]
    assert owners == [old, new]


def test_a_message_id_twice_in_one_batch_is_one_contact(client, admin, uow, clock, container):
    make_customer(uow, clock)
    before = counts(container)
    r = client.post(URL, json={"partyInteraction": [item("D-1", "07700900555"), item("D-1", "07700900555")]},
                    headers=admin)
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["status"], second["status"]) == (201, 200) and first["id"] == second["id"]
    assert counts(container)["Contact"] - before["Contact"] == 1


def test_contacts_that_need_more_than_a_look_up_are_recorded_too(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    named = item("N-1", None, relatedParty=[{"@type": "RelatedPartyOrPartyRole", "role": "customer",
                                               "partyOrPartyRole": {"@type": "PartyRef", "id": cid}}])
    social = item("N-2", None, channel="social")
    social["identifiers"] = {"social": "x:janedoe"}
    r = client.post(URL, json={"partyInteraction": [named, item("N-3", "07700900555"), social]}, headers=admin)
    assert r.status_code == 200, r.text
    got = [x["partyInteraction"] for x in r.json()["results"]]
    assert got[0]["relatedParty"][0]["partyOrPartyRole"]["id"] == cid
    assert got[1]["relatedParty"][0]["partyOrPartyRole"]["id"] == cid
    assert got[2]["matchStatus"] == "queued"


def test_one_bad_contact_and_none_is_stored(client, admin, uow, clock, container):
    make_customer(uow, clock)
    before = counts(container)
    bad_channel = item("E-2", "07700900555", channel="pigeon")
    r = client.post(URL, json={"partyInteraction": [item("E-1", "07700900555"), bad_channel]}, headers=admin)
    err = assert_tmf_error(r, 400)
    assert "partyInteraction[1]" in err["message"]
    unknown_kind = item("E-3", None)
    unknown_kind["identifiers"] = {"fax": "123"}
    r = client.post(URL, json={"partyInteraction": [item("E-1", "07700900555"), item("E-2", None), unknown_kind]},
                    headers=admin)
    err = assert_tmf_error(r, 400)
    assert "partyInteraction[2]" in err["message"] and "fax" in err["message"]
    nobody = item("E-4", None, relatedParty=[{"@type": "RelatedPartyOrPartyRole", "role": "customer",
                                              "partyOrPartyRole": {"@type": "PartyRef", "id": "NOPE"}}])
    err = assert_tmf_error(client.post(URL, json={"partyInteraction": [item("E-1", None), nobody]}, headers=admin),
                           404)
    assert "partyInteraction[1]" in err["message"]
    for payload in ({"partyInteraction": []}, {"partyInteraction": [item(f"F-{n}", None) for n in range(101)]},
                    {"partyInteraction": [{"direction": "inbound"}]}, {"contacts": [item("X", None)]}):
        assert client.post(URL, json=payload, headers=admin).status_code in (400, 422)
    assert counts(container) == before


def test_only_roles_that_record_contacts_may_send_a_batch(client, token_for, container):
    before = counts(container)
    r = client.post(URL, json={"partyInteraction": [item("P-1", None)]}, headers=token_for("field_subcontractor"))
    assert_tmf_error(r, 403)
    assert counts(container) == before


def test_a_message_id_repeated_after_a_contact_recorded_on_its_own_is_its_redelivery(client, admin, uow, clock,
                                                                                      container):
    ann = make_customer(uow, clock, "Ann", "Lee", "07700 900001")
    make_customer(uow, clock, "Bob", "Ray", "07700 900002")
    named = item("M-1", None, relatedParty=[{"@type": "RelatedPartyOrPartyRole", "role": "customer",
                                               "partyOrPartyRole": {"@type": "PartyRef", "id": ann}}])
    before = counts(container)
    r = client.post(URL, json={"partyInteraction": [named, item("M-1", "07700900002")]}, headers=admin)
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert (first["status"], second["status"]) == (201, 200) and first["id"] == second["id"]
    assert second["partyInteraction"]["relatedParty"][0]["partyOrPartyRole"]["id"] == ann
    assert counts(container)["Contact"] - before["Contact"] == 1


def test_a_contact_refused_when_it_is_recorded_fails_the_batch_and_names_it(client, admin, uow, clock, container):
    make_customer(uow, clock)
    before = counts(container)
    lost = item("L-2", None, sessionId="01NOSUCHSESSION00000000000")
    r = client.post(URL, json={"partyInteraction": [item("L-1", "07700900555"), lost]}, headers=admin)
    err = assert_tmf_error(r, 404)
    assert err["message"].startswith("partyInteraction[1]: ")
    assert counts(container) == before  # the first contact, already inserted, is rolled back with the batch
