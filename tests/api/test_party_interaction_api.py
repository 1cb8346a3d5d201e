"""TMF683 partyInteraction: record, read, list; schema conformance; idempotent redelivery; errors; audit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from onethread.access.rules import SYSTEM
from onethread.interactions import session_service
from onethread.models import AuditEntry
from tests.support.party_interaction_api import BASE, body, counts, make_customer
from tests.tmf_schema import assert_tmf_error, validate

EXT = "OnethreadPartyInteraction"


def test_create_is_201_with_location_and_a_valid_tmf683_body(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    r = client.post(BASE, json=body(cid), headers=admin)
    assert r.status_code == 201, r.text
    got = r.json()
    validate("TMF683", "PartyInteraction", got)
    assert r.headers["Location"] == got["href"] == f"{BASE}/{got['id']}"
    assert got["@type"] == EXT and got["@baseType"] == "PartyInteraction"
    assert got["status"] == "completed"
    assert got["direction"] == "inbound"
    assert got["reason"] == "Billing error"
    assert got["interactionDate"] == {"startDateTime": "2026-03-02T08:30:00+00:00",
                                      "endDateTime": "2026-03-02T08:41:00+00:00"}
    assert got["relatedChannel"][0]["channel"]["id"] == "phone"
    (party,) = got["relatedParty"]
    assert party["role"] == "customer" and party["partyOrPartyRole"]["id"] == cid
    assert got["matchStatus"] == "matched" and got["kind"] == "call"
    assert got["attachment"][0]["name"] == "bill-april.pdf"
    assert got["attachment"][0]["size"] == {"amount": 120, "units": "KB"}
    assert got["note"][0]["text"] == "Promised a call back"
    assert got["externalIdentifier"] == [{"@type": "ExternalIdentifier", "id": "M-1",
                                          "externalIdentifierType": "messageId", "owner": "ContactCentreACD"}]
    # GET answers the same representation.
    again = client.get(got["href"], headers=admin)
    assert again.status_code == 200
    assert again.json() == got


def test_a_repeat_post_with_the_same_message_id_returns_the_stored_contact_and_writes_nothing(
        client, admin, uow, clock, container):
    cid = make_customer(uow, clock)
    first = client.post(BASE, json=body(cid), headers=admin)
    assert first.status_code == 201
    before = counts(container)
    clock.advance(timedelta(minutes=5))
    repeat = client.post(BASE, json=body(cid, description="a retry with other text"), headers=admin)
    assert repeat.status_code == 200, repeat.text
    assert repeat.json()["id"] == first.json()["id"]
    assert repeat.json()["description"] == first.json()["description"]
    assert repeat.headers["Location"] == first.headers["Location"]
    assert counts(container) == before
    # The same message id on another channel is another contact.
    other = client.post(BASE, json=body(cid, channel="email"), headers=admin)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_the_sender_is_matched_by_identifiers_or_queued(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    clock.advance(timedelta(hours=1))  # the contact's time decides who held the number: now
    known = client.post(BASE, json=body(message_id="K-1", interactionDate=None,
                                        **{"@type": EXT, "identifiers": {"msisdn": "+447700900555"}}), headers=admin)
    assert known.status_code == 201, known.text
    validate("TMF683", "PartyInteraction", known.json())
    assert known.json()["matchStatus"] == "matched"
    assert known.json()["relatedParty"][0]["partyOrPartyRole"]["id"] == cid
    stranger = client.post(BASE, json=body(message_id="K-2", interactionDate=None,
                                           **{"@type": EXT, "identifiers": {"msisdn": "07700 900999"}}), headers=admin)
    assert stranger.status_code == 201
    validate("TMF683", "PartyInteraction", stranger.json())
    assert stranger.json()["matchStatus"] == "queued"
    assert stranger.json()["relatedParty"] == []


def test_list_filters_fields_and_paging_headers(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    other = make_customer(uow, clock, given="Other", msisdn="07700 900666")
    for i, channel in enumerate(["phone", "email", "letter", "phone"]):
        clock.advance(timedelta(minutes=3))
        assert client.post(BASE, json=body(cid, message_id=f"L-{i}", channel=channel,
                                           interactionDate={"startDateTime": clock.now().isoformat()}),
                           headers=admin).status_code == 201
    client.post(BASE, json=body(other, message_id="L-9"), headers=admin)
    # A contact in a live session is in progress.
    with uow() as s:
        live = session_service.start(s, clock, SYSTEM, channel="phone", customer_id=cid)
        live_id = live.id
    r = client.post(BASE, json=body(message_id="L-live", **{"@type": EXT, "sessionId": live_id}), headers=admin)
    assert r.status_code == 201 and r.json()["status"] == "inProgress" and r.json()["sessionId"] == live_id
    assert r.json()["relatedParty"][0]["partyOrPartyRole"]["id"] == cid

    mine = client.get(BASE, params={"relatedParty.id": cid}, headers=admin)
    assert mine.status_code == 200
    assert mine.headers["X-Total-Count"] == "5" and mine.headers["X-Result-Count"] == "5"
    for item in mine.json():
        validate("TMF683", "PartyInteraction", item)
    times = [i["interactionDate"]["startDateTime"] for i in mine.json()]
    assert times == sorted(times, reverse=True)  # newest first

    phone = client.get(BASE, params={"relatedParty.id": cid, "channel": "phone"}, headers=admin).json()
    assert len(phone) == 3 and {i["relatedChannel"][0]["channel"]["id"] for i in phone} == {"phone"}
    busy = client.get(BASE, params={"status": "inProgress"}, headers=admin).json()
    assert [i["id"] for i in busy] == [r.json()["id"]]
    done = client.get(BASE, params={"status": "completed", "relatedParty.id": cid}, headers=admin)
    assert done.headers["X-Total-Count"] == "4"

    page = client.get(BASE, params={"relatedParty.id": cid, "offset": 1, "limit": 2, "fields": "status,channel"},
                      headers=admin)
    assert page.headers["X-Total-Count"] == "5" and page.headers["X-Result-Count"] == "2"
    assert [set(i) for i in page.json()] == [{"id", "href", "@type", "@baseType", "@schemaLocation", "status"}] * 2
    assert [i["id"] for i in page.json()] == [i["id"] for i in mine.json()[1:3]]
    one = client.get(f"{BASE}/{r.json()['id']}", params={"fields": "matchStatus"}, headers=admin).json()
    assert one == {"id": r.json()["id"], "href": r.json()["href"], "@type": EXT, "@baseType": "PartyInteraction",
                   "@schemaLocation": "/tmf-api/schema/OnethreadPartyInteraction.schema.json", "matchStatus": "matched"}


def test_when_the_session_ends_the_interaction_is_completed_with_its_end(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    with uow() as s:
        live_id = session_service.start(s, clock, SYSTEM, channel="store", customer_id=cid).id
    created = client.post(BASE, json=body(message_id="S-1", channel="store", interactionDate=None,
                                          **{"@type": EXT, "sessionId": live_id}), headers=admin).json()
    assert created["status"] == "inProgress" and "endDateTime" not in created["interactionDate"]
    clock.advance(timedelta(minutes=20))
    with uow() as s:
        session_service.end(s, clock, SYSTEM, live_id)
    got = client.get(created["href"], headers=admin).json()
    validate("TMF683", "PartyInteraction", got)
    assert got["status"] == "completed"
    assert got["interactionDate"]["endDateTime"] == clock.now().isoformat()


def test_reads_of_a_customers_contacts_are_audited(client, admin, uow, clock, container):
    cid = make_customer(uow, clock)
    contact = client.post(BASE, json=body(cid), headers=admin).json()
    client.get(f"{BASE}/{contact['id']}", headers=admin)
    client.get(BASE, params={"relatedParty.id": cid}, headers=admin)
    with container.sessions() as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.customer_id == cid, AuditEntry.action == "read",
                                                   AuditEntry.resource_type == "contact")).all()
    assert len(reads) == 2
    assert {r.purpose for r in reads} == {None, "list"}
    assert all(r.actor_name == "test-admin" and r.channel == "api" for r in reads)
    assert reads[0].detail.get("contactIds", [contact["id"]]) == [contact["id"]]


def test_bad_requests_are_tmf_errors_and_write_nothing(client, admin, uow, clock, container):
    cid = make_customer(uow, clock)
    good = body(cid)
    before = counts(container)
    cases = [
        (client.post(BASE, content=b"{not json", headers={**admin, "Content-Type": "application/json"}), 400),
        (client.post(BASE, json={**good, "shoeSize": 42}, headers=admin), 400),
        (client.post(BASE, json={**good, "reason": 12}, headers=admin), 400),
        (client.post(BASE, json={**good, "direction": "sideways"}, headers=admin), 400),
        (client.post(BASE, json={k: v for k, v in good.items() if k != "reason"}, headers=admin), 400),
        (client.post(BASE, json={**good, "relatedChannel": []}, headers=admin), 400),
        (client.post(BASE, json={**good, "relatedChannel": [{"role": "x", "channel": {"name": "Pigeon"}}]},
                     headers=admin), 400),
        (client.post(BASE, json={**good, "identifiers": {"msisdn": "07700 900555"}}, headers=admin), 400),
        (client.post(BASE, json={**good, "@type": EXT, "kind": "gossip"}, headers=admin), 400),
        # file content is kept now (test_attachments_kept.py); content that is not a file we keep is refused
        (client.post(BASE, json={**good, "attachment": [{"@type": "Attachment", "name": "x.exe",
                                                         "mimeType": "application/x-msdownload", "content": "TVqQ"}]},
                     headers=admin), 400),
        (client.post(BASE, json={**good, "attachment": [{"@type": "Attachment", "content": "not base64!"}]},
                     headers=admin), 400),
        (client.post(BASE, json={**good, "interactionDate": {"startDateTime": "2026-03-02T08:30:00"}},
                     headers=admin), 400),
        (client.post(BASE, json={**good, "interactionDate": {"startDateTime": "2026-03-02T09:00:00Z",
                                                             "endDateTime": "2026-03-02T08:00:00Z"}},
                     headers=admin), 400),
        (client.post(BASE, json={**good, "relatedParty": [{"role": "customer", "partyOrPartyRole":
                                                          {"@type": "PartyRef", "id": "NOPE"}}]}, headers=admin), 404),
        (client.post(BASE, json={**good, "@type": EXT, "sessionId": "NOPE"}, headers=admin), 404),
        (client.post(BASE, json={**good, "description": "x" * 250_000}, headers=admin), 413),  # over the upload limit
        (client.get(f"{BASE}/NOPE", headers=admin), 404),
        (client.get(BASE, params={"status": "sleeping"}, headers=admin), 400),
        (client.get(BASE, params={"channel": "pigeon"}, headers=admin), 400),
        (client.get(BASE, params={"limit": "lots"}, headers=admin), 400),
        (client.delete(f"{BASE}/NOPE", headers=admin), 405),
    ]
    for response, status in cases:
        assert_tmf_error(response, status)
    unknown = assert_tmf_error(client.post(BASE, json={**good, "shoeSize": 42}, headers=admin), 400)
    assert "shoeSize" in unknown["message"]
    assert counts(container) == before


def test_roles_read_and_write(client, token_for, uow, clock):
    cid = make_customer(uow, clock)
    assert client.post(BASE, json=body(cid), headers=token_for("integration")).status_code == 201
    assert client.get(BASE, headers=token_for("agent")).status_code == 200
    assert_tmf_error(client.get(BASE, headers=token_for("field_subcontractor")), 403)
    assert_tmf_error(client.post(BASE, json=body(cid, message_id="x"), headers=token_for("field_subcontractor")), 403)
    assert_tmf_error(client.get(BASE), 401)
