"""Channel intake (/api/v1/channels): one JSON shape per channel, idempotent on the channel's own id.

Every endpoint: a redelivery answers 200 with the stored contact and writes nothing; bad input is
a TMF Error that writes nothing; a number's former holder never gets the contact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.db.outbox import OutboxEvent
from onethread.interactions import service as interactions
from onethread.models import Contact, ContactSession, MatchItem, SessionHop, TimelineEntry
from tests.tmf_schema import assert_tmf_error

C = "/api/v1/channels"
NUMBER, EMAIL, ACCOUNT = "07700 900555", "jane@example.org", "ACC-555001"


@pytest.fixture
def world(uow, clock) -> dict:
    """A customer who has held her number, e-mail and account for years; a store advisor, an agent, a team."""
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Jane", family_name="Doe")
        cid = customers.create_customer(s, clock, SYSTEM, party_id=party.id).id
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        customers.open_billing_account(s, clock, SYSTEM, customer_id=cid, account_number=ACCOUNT, currency="GBP",
                                       opened_on=long_ago.date())
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="msisdn", value=NUMBER, valid_from=long_ago,
                                  region="GB")
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="email", value=EMAIL, valid_from=long_ago)
        team = access.create_team(s, clock, name="Contact centre")
        advisor = access.create_user(s, clock, username="sam.store", display_name="Sam Store", role="store_advisor",
                                     password=None)
        agent = access.create_user(s, clock, username="jo.agent", display_name="Jo Agent", role="agent",
                                   password=None, team_id=team.id)
        return {"customer": cid, "team": team.id, "advisor": advisor.id, "agent": agent.id}


def counts(container) -> dict[str, int]:
    with container.sessions() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m))
                for m in (Contact, ContactSession, SessionHop, MatchItem, OutboxEvent, TimelineEntry)}


def at(clock, minutes: int = 0) -> str:
    return (clock.now() + timedelta(minutes=minutes)).isoformat()


def post(client, headers, path, body, status=201) -> dict:
    r = client.post(f"{C}{path}", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def test_a_store_visit_opens_a_session_its_notes_join_it_and_it_ends(client, admin, world, clock, container):
    visit = post(client, admin, "/store/visits", {"visitId": "V-1", "accountNumber": ACCOUNT,
                                                  "advisorId": world["advisor"], "reason": "Billing question"})
    assert visit["matchStatus"] == "matched" and visit["customerId"] == world["customer"]
    assert visit["kind"] == "visit" and visit["channel"] == "store" and visit["sessionId"]
    sid = visit["sessionId"]
    with container.sessions() as s:
        live = s.get(ContactSession, sid)
        assert (live.customer_id, live.holder_staff_id, live.external_id) == (world["customer"], world["advisor"],
                                                                              "V-1")
    clock.advance(timedelta(minutes=5))
    note = post(client, admin, f"/store/visits/{sid}/notes", {
        "noteId": "N-1", "text": "Old tablet SIM still billed; removed here on 10 March.",
        "attachments": [{"name": "receipt.jpg", "mimeType": "image/jpeg", "sizeBytes": 2048}]})
    assert note["sessionId"] == sid and note["customerId"] == world["customer"] and note["kind"] == "visit_note"
    ended = client.post(f"{C}/store/visits/{sid}/end", headers=admin)
    assert ended.status_code == 200 and ended.json()["sessionStatus"] == "ended"
    assert client.post(f"{C}/store/visits/{sid}/end", headers=admin).status_code == 200  # repeatable
    got = client.get(f"/tmf-api/partyInteraction/v5/partyInteraction/{note['id']}", headers=admin).json()
    assert got["attachment"] == [{"@type": "Attachment", "name": "receipt.jpg", "mimeType": "image/jpeg",
                                  "attachmentType": "storeDocument", "size": {"amount": 2048, "units": "bytes"}}]
    assert got["status"] == "completed"


def test_telephony_started_transferred_ended(client, token_for, world, clock, container):
    pbx = token_for("integration")
    start = {"event": "started", "callId": "CALL-1", "at": at(clock), "callingNumber": "+447700900555",
             "calledNumber": "0800 123 456", "agentId": world["agent"]}
    started = post(client, pbx, "/telephony/events", start)
    assert started["matchStatus"] == "matched" and started["customerId"] == world["customer"]
    assert started["kind"] == "call" and started["sessionStatus"] == "live"
    assert started["holder"]["staffId"] == world["agent"]
    sid = started["sessionId"]
    with container.sessions() as s:
        assert s.get(ContactSession, sid).customer_id == world["customer"]  # the call identified its session

    clock.advance(timedelta(minutes=4))
    transfer = {"event": "transferred", "callId": "CALL-1", "at": at(clock), "toTeamId": world["team"],
                "reason": "billing dispute"}
    moved = post(client, pbx, "/telephony/events", transfer)
    assert moved["holder"] == {"staffId": None, "teamId": world["team"]} and moved["id"] == started["id"]
    before = counts(container)
    clock.advance(timedelta(minutes=1))
    assert post(client, pbx, "/telephony/events", transfer, status=200)["holder"]["teamId"] == world["team"]
    assert counts(container) == before

    clock.advance(timedelta(minutes=6))
    end = {"event": "ended", "callId": "CALL-1", "at": at(clock)}
    assert post(client, pbx, "/telephony/events", end, status=200)["sessionStatus"] == "ended"
    before = counts(container)
    assert post(client, pbx, "/telephony/events", end, status=200)["sessionStatus"] == "ended"
    assert post(client, pbx, "/telephony/events", start, status=200)["id"] == started["id"]
    assert counts(container) == before
    # A new transfer of a call that has ended is refused.
    late = {**transfer, "toTeamId": None, "toStaffId": world["agent"], "at": at(clock)}
    assert_tmf_error(client.post(f"{C}/telephony/events", json=late, headers=pbx), 409)
    assert counts(container) == before


def test_a_letter_keyed_in_by_the_back_office(client, token_for, world, clock):
    back_office = token_for("back_office")
    letter = {"letterRef": "PO-2026-0042", "receivedOn": (clock.now().date() - timedelta(days=2)).isoformat(),
              "senderName": "Jane Doe", "senderAddress": "1 High Street, Leeds LS1 1AA", "accountNumber": ACCOUNT,
              "text": "I write for the third time about the SIM you removed.",
              "attachments": [{"name": "scan-1.pdf", "mimeType": "application/pdf", "sizeBytes": 81234}]}
    got = post(client, back_office, "/letters", letter)
    assert got["matchStatus"] == "matched" and got["customerId"] == world["customer"] and got["kind"] == "letter"
    assert got["occurredAt"].startswith(letter["receivedOn"])
    future = {**letter, "letterRef": "PO-X", "receivedOn": (clock.now().date() + timedelta(days=1)).isoformat()}
    assert_tmf_error(client.post(f"{C}/letters", json=future, headers=back_office), 400)


def test_a_field_technicians_note_from_a_subcontractor(client, token_for, world):
    tech = token_for("field_subcontractor")
    got = post(client, tech, "/field/notes", {
        "noteId": "FN-1", "workOrderRef": "WO-778", "technician": {"name": "Finn Field", "company": "FibreFix Ltd"},
        "phone": NUMBER, "text": "No network connection at the cabinet; visit failed.",
        "photos": [{"name": "cabinet.jpg", "mimeType": "image/jpeg", "url": "https://files.example/c.jpg"}]})
    assert got["matchStatus"] == "matched" and got["customerId"] == world["customer"]
    assert got["kind"] == "technician_note" and got["direction"] == "internal"
    assert_tmf_error(client.post(f"{C}/store/visits", json={"visitId": "V", "phone": NUMBER}, headers=tech), 403)


def test_a_chat_is_identified_when_the_visitor_gives_a_known_email(client, admin, world, clock, container):
    first = post(client, admin, "/chat/messages", {"chatId": "CH-1", "messageId": "1", "from": "customer",
                                                   "text": "Hello, I have a billing problem."})
    assert first["matchStatus"] == "queued" and first["sessionId"]
    clock.advance(timedelta(minutes=1))
    second = post(client, admin, "/chat/messages", {"chatId": "CH-1", "messageId": "2", "from": "customer",
                                                    "text": "My e-mail is jane@example.org",
                                                    "visitor": {"name": "Jane", "email": EMAIL}})
    assert second["matchStatus"] == "matched" and second["sessionId"] == first["sessionId"]
    reply = post(client, admin, "/chat/messages", {"chatId": "CH-1", "messageId": "3", "from": "agent",
                                                   "agentId": world["agent"], "text": "Thanks Jane, looking now."})
    assert reply["direction"] == "outbound" and reply["customerId"] == world["customer"]
    with container.sessions() as s:
        assert s.get(Contact, first["id"]).customer_id == world["customer"]  # the earlier message joined her
        assert interactions.open_match_items(s) == []
        on_timeline = s.scalars(select(TimelineEntry.ref_id).where(TimelineEntry.customer_id == world["customer"],
                                                                   TimelineEntry.kind == "contact")).all()
    assert {first["id"], second["id"], reply["id"]} <= set(on_timeline)
    ended = client.post(f"{C}/chat/ended", json={"chatId": "CH-1"}, headers=admin)
    assert ended.status_code == 200 and ended.json()["sessionStatus"] == "ended"


def test_a_web_form_is_matched_by_email_or_queued(client, token_for, world):
    web = token_for("integration")
    known = post(client, web, "/web-forms", {"submissionId": "F-1", "formName": "contact-us",
                                             "email": "JANE@example.org", "subject": "Billing error",
                                             "text": "Charged for a removed SIM."})
    assert known["matchStatus"] == "matched" and known["customerId"] == world["customer"]
    nobody = post(client, web, "/web-forms", {"submissionId": "F-2", "email": "who@example.org",
                                              "subject": "Hello", "text": "Anyone there?"})
    assert nobody["matchStatus"] == "queued" and nobody["customerId"] is None


def endpoints(world, clock, sid: str) -> list[tuple[str, dict]]:
    now = clock.now().isoformat()
    return [
        ("/store/visits", {"visitId": "V-9", "phone": NUMBER, "advisorId": world["advisor"]}),
        (f"/store/visits/{sid}/notes", {"noteId": "N-9", "text": "note"}),
        ("/telephony/events", {"event": "started", "callId": "CALL-9", "at": now, "callingNumber": NUMBER}),
        ("/letters", {"letterRef": "L-9", "receivedOn": clock.now().date().isoformat(), "senderName": "Jane Doe",
                      "senderAddress": "1 High Street", "accountNumber": ACCOUNT, "text": "letter"}),
        ("/field/notes", {"noteId": "FN-9", "workOrderRef": "WO-9", "technician": {"name": "Finn"}, "email": EMAIL,
                          "text": "note"}),
        ("/chat/messages", {"chatId": "CH-9", "messageId": "1", "from": "customer", "text": "hi",
                            "visitor": {"phone": NUMBER}}),
        ("/web-forms", {"submissionId": "F-9", "email": EMAIL, "subject": "s", "text": "t"}),
    ]


def _visit(client, admin) -> str:
    return post(client, admin, "/store/visits", {"visitId": "V-0", "accountNumber": ACCOUNT})["sessionId"]


def test_every_endpoint_is_idempotent_on_the_channels_own_id(client, admin, world, clock, container):
    sid = _visit(client, admin)
    for path, body in endpoints(world, clock, sid):
        first = post(client, admin, path, body)
        assert first["matchStatus"] == "matched" and first["customerId"] == world["customer"], path
        before = counts(container)
        clock.advance(timedelta(minutes=2))
        again = post(client, admin, path, body, status=200)
        assert again["id"] == first["id"] and again["messageId"] == first["messageId"], path
        assert counts(container) == before, path


def test_bad_input_is_a_tmf_error_and_writes_nothing(client, admin, world, clock, container):
    sid = _visit(client, admin)
    before = counts(container)
    for path, body in endpoints(world, clock, sid):
        url = f"{C}{path}"
        assert_tmf_error(client.post(url, content=b"{nope", headers={**admin, "Content-Type": "application/json"}),
                         400)
        unknown = assert_tmf_error(client.post(url, json={**body, "shoeSize": 42}, headers=admin), 400)
        assert "shoeSize" in unknown["message"], path
        wrong = {**body, next(k for k, v in body.items() if isinstance(v, str)): 12}
        assert_tmf_error(client.post(url, json=wrong, headers=admin), 400)
        assert_tmf_error(client.post(url, json={}, headers=admin), 400)
        assert_tmf_error(client.post(url, json=[body], headers=admin), 400)
        big = {**body, "text": "x" * 250_000}  # over the upload limit too
        assert_tmf_error(client.post(url, json=big, headers=admin), 413)
    missing = [
        ("/store/visits/NOPE/notes", {"noteId": "N", "text": "t"}),
        ("/store/visits/NOPE/end", None),
        ("/store/visits", {"visitId": "V-x", "customerId": "NOPE"}),
        ("/store/visits", {"visitId": "V-x", "phone": NUMBER, "advisorId": "NOPE"}),
        ("/telephony/events", {"event": "started", "callId": "C-x", "at": at(clock), "agentId": "NOPE"}),
        ("/telephony/events", {"event": "transferred", "callId": "NOPE", "at": at(clock), "toTeamId": world["team"]}),
        ("/telephony/events", {"event": "ended", "callId": "NOPE", "at": at(clock)}),
        ("/letters", {"letterRef": "L-x", "receivedOn": "2026-01-05", "senderName": "A", "senderAddress": "B",
                      "customerId": "NOPE", "text": "t"}),
        ("/field/notes", {"noteId": "F-x", "workOrderRef": "W", "technician": {"name": "T"}, "customerId": "NOPE",
                          "text": "t"}),
        ("/chat/messages", {"chatId": "C-x", "messageId": "1", "from": "agent", "agentId": "NOPE", "text": "t"}),
        ("/chat/ended", {"chatId": "NOPE"}),
    ]
    for path, body in missing:
        assert_tmf_error(client.post(f"{C}{path}", json=body, headers=admin), 404)
    invalid = [
        ("/store/visits", {"visitId": "V-x"}),  # nobody named
        ("/store/visits", {"visitId": "V-x", "phone": NUMBER, "at": "2026-03-02T09:00:00"}),  # no time zone
        ("/telephony/events", {"event": "hung up", "callId": "C", "at": at(clock)}),
        ("/telephony/events", {"event": "transferred", "callId": "CALL-9", "at": at(clock)}),  # to where?
        ("/telephony/events", {"event": "ended", "callId": "CALL-9", "at": at(clock), "toTeamId": world["team"]}),
        ("/chat/messages", {"chatId": "C", "messageId": "1", "from": "robot", "text": "t"}),
        ("/field/notes", {"noteId": "F", "workOrderRef": "W", "technician": {"name": "T"}, "text": "t"}),
        ("/web-forms", {"submissionId": "F", "subject": "s", "text": "   "}),
        ("/store/visits", {"visitId": "x" * 121, "phone": NUMBER}),
    ]
    for path, body in invalid:
        assert_tmf_error(client.post(f"{C}{path}", json=body, headers=admin), 400)
    assert counts(container) == before
    assert_tmf_error(client.post(f"{C}/web-forms", json={"submissionId": "F", "subject": "s", "text": "t"}), 401)


def test_a_number_moved_to_someone_else_never_reaches_its_former_holder(client, admin, uow, clock, world):
    """Tom held the number until last year; Priya holds it now. Every channel finds Priya."""
    number = "07700 900301"
    with uow() as s:
        tom = customers.create_customer(s, clock, SYSTEM, party_id=customers.create_individual(
            s, clock, SYSTEM, given_name="Tom", family_name="Bennett").id).id
        priya = customers.create_customer(s, clock, SYSTEM, party_id=customers.create_individual(
            s, clock, SYSTEM, given_name="Priya", family_name="Shah").id).id
        identifier_service.assign(s, clock, SYSTEM, customer_id=tom, kind="msisdn", value=number,
                                  valid_from=datetime(2012, 3, 1, tzinfo=UTC), region="GB")
        identifier_service.move(s, clock, SYSTEM, kind="msisdn", value=number, to_customer_id=priya,
                                at=clock.now() - timedelta(days=365), reason="number recycled", region="GB")
        gone = "07700 900302"  # Tom's other number: ended, nobody holds it now
        held = identifier_service.assign(s, clock, SYSTEM, customer_id=tom, kind="msisdn", value=gone,
                                         valid_from=datetime(2012, 3, 1, tzinfo=UTC), region="GB")
        identifier_service.end_holding(s, clock, SYSTEM, held.id, at=clock.now() - timedelta(days=30))
    now = at(clock)
    sent = [
        ("/telephony/events", {"event": "started", "callId": "T-1", "at": now, "callingNumber": "+447700900301"}),
        ("/web-forms", {"submissionId": "T-2", "phone": number, "subject": "My number", "text": "in my name please"}),
        ("/store/visits", {"visitId": "T-3", "phone": number}),
        ("/chat/messages", {"chatId": "T-4", "messageId": "1", "from": "customer", "text": "hi",
                            "visitor": {"phone": number}}),
        ("/field/notes", {"noteId": "T-5", "workOrderRef": "W", "technician": {"name": "T"}, "phone": number,
                          "text": "t"}),
    ]
    for path, body in sent:
        got = post(client, admin, path, body)
        assert got["customerId"] == priya, (path, got)
    for path, body in [("/telephony/events", {"event": "started", "callId": "T-6", "at": now, "callingNumber": gone}),
                       ("/web-forms", {"submissionId": "T-7", "phone": gone, "subject": "s", "text": "t"})]:
        got = post(client, admin, path, body)
        assert got["customerId"] is None and got["matchStatus"] == "queued", (path, got)
    listed = client.get("/tmf-api/partyInteraction/v5/partyInteraction", params={"relatedParty.id": tom},
                        headers=admin)
    assert listed.json() == []
