"""Outbound messages over HTTP (TMF681 and /api/v1): the guard reads the customer's real state.

S4: the retention letter a line's termination triggers is suppressed for a customer who just
spent more or still has other products, and goes to a genuine leaver; marketing waits while a
complaint or billing case is open; regulatory letters never; a letters-only customer's e-mail
reply goes out as a letter, copied to the representative who receives their letters.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.inventory import service as inventory
from onethread.models import Contact, LetterDocument, OutboundMessage, TimelineEntry
from tests.tmf_schema import assert_tmf_error, validate_swagger

TMF = "/tmf-api/communicationManagement/v4/communicationMessage"
V1 = "/api/v1"


def person(s, clock, given, family, *, email=None, since=date(2015, 4, 1)):
    party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
    cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id, customer_since=since)
    if email:
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="email", value=email,
                                  valid_from=clock.now() - timedelta(days=400))
    return cust


def message_for(body: dict, customer_id: str, **extra) -> dict:
    return {"@type": "OnethreadCommunicationMessage", "messageType": "Email", "content": "Hello",
            "sender": {"name": "Marketing"}, "receiver": [{"party": {"id": customer_id, "@referredType": "Customer"}}],
            **body, **extra}


@pytest.fixture
def agent(uow, clock):
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        user = access.create_user(s, clock, username="alex.agent", display_name="Alex Morgan", role="agent",
                                  password=None, team_id=team.id)
        return access.staff_principal(user)


def test_a_retention_letter_after_one_line_ends_is_suppressed_with_its_reasons_s4(client, admin, uow, clock):
    """The joinery renews (more spend), the old tablet SIM is shredded: no 'please stay' letter."""
    with uow() as s:
        firm = person(s, clock, "Mark", "Ellis", email="mark@harbourlane.example")
        acc = customers.open_billing_account(s, clock, SYSTEM, customer_id=firm.id, account_number="ACC-400401",
                                             currency="GBP", opened_on=date(2015, 4, 1))
        for n in range(3):
            inventory.add_product(s, clock, SYSTEM, customer_id=firm.id, kind="mobile_line", name=f"Line {n}",
                                  price_minor=2800, currency="GBP", billing_account_id=acc.id,
                                  activated_at=clock.now() - timedelta(days=3000))
        ipad = inventory.add_product(s, clock, SYSTEM, customer_id=firm.id, kind="data_sim", name="Tablet SIM",
                                     price_minor=1000, currency="GBP", billing_account_id=acc.id,
                                     activated_at=clock.now() - timedelta(days=2000))
        for n in range(2):  # the renewal: two new data SIMs
            inventory.add_product(s, clock, SYSTEM, customer_id=firm.id, kind="data_sim", name=f"Data SIM {n}",
                                  price_minor=1200, currency="GBP", billing_account_id=acc.id,
                                  activated_at=clock.now() - timedelta(hours=2))
        inventory.change_status(s, clock, SYSTEM, ipad, "terminated", channel="store",
                                reason="removed at renewal; SIM destroyed in store")
        firm_id = firm.id
    listed = client.get(TMF, params={"receiver.id": firm_id}, headers=admin)
    assert listed.status_code == 200, listed.text
    [letter] = listed.json()
    validate_swagger("TMF681", "CommunicationMessage", letter)
    assert (letter["status"], letter["state"], letter["purpose"], letter["channel"]) == (
        "suppressed", "cancelled", "retention", "letter")
    codes = {r["code"] for r in letter["reasons"]}
    assert {"RETENTION_COMMITMENT_ROSE", "RETENTION_STILL_CUSTOMER"} <= codes
    rose = next(r["reason"] for r in letter["reasons"] if r["code"] == "RETENTION_COMMITMENT_ROSE")
    assert "rose by 1400" in rose  # +2 x 1200, -1000
    with uow() as s:  # never sent, never a contact; the suppression is on the timeline with its reason
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.direction == "outbound")) == 0
        titles = [t for t, in s.execute(select(TimelineEntry.title).where(TimelineEntry.customer_id == firm_id))]
        assert any(t.startswith("Letter to the customer suppressed") for t in titles), titles


def test_a_genuine_leaver_gets_the_retention_letter_as_a_pdf(client, admin, uow, clock, container):
    with uow() as s:
        leaver = person(s, clock, "Lena", "Leaver", since=date(2012, 1, 1))
        line = inventory.add_product(s, clock, SYSTEM, customer_id=leaver.id, kind="mobile_line", name="Unlimited",
                                     price_minor=2500, currency="GBP", activated_at=clock.now() - timedelta(days=900))
        inventory.change_status(s, clock, SYSTEM, line, "terminated", channel="phone", reason="leaving")
        leaver_id = leaver.id
    [letter] = client.get(TMF, params={"receiver.id": leaver_id}, headers=admin).json()
    assert (letter["status"], letter["verdict"], letter["channel"]) == ("queued", "send", "letter")
    [pdf] = letter["attachment"]
    got = client.get(pdf["url"], headers=admin)
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(got.content)).pages[0].extract_text()
    assert "Lena Leaver" in text and "£25.00" in text and "2 March 2026" in text
    with uow() as s:
        contact = s.get(Contact, letter["contactId"])
        assert (contact.channel, contact.direction, contact.kind) == ("letter", "outbound", "letter")


def test_marketing_waits_while_a_complaint_is_open_regulatory_never_does(client, admin, uow, clock, agent):
    with uow() as s:
        cust = person(s, clock, "Margaret", "Hughes", email="margaret.hughes@mail.example")
        case = cases.open_new(s, clock, agent, customer_id=cust.id, kind="complaint", title="No incoming calls",
                              opened_via="phone")
        cust_id, case_id = cust.id, case.id
    client.put(f"{V1}/customers/{cust_id}/contact-preferences", headers=admin,
               json={"marketingConsent": True})
    offer = client.post(TMF, headers=admin, json=message_for({"purpose": "marketing", "subject": "New phones"},
                                                             cust_id))
    assert offer.status_code == 201, offer.text
    assert offer.json()["status"] == "suppressed"
    assert [r["code"] for r in offer.json()["reasons"]] == ["OPEN_COMPLAINT"]
    notice = client.post(TMF, headers=admin, json=message_for(
        {"purpose": "regulatory", "subject": "Your complaint", "caseId": case_id}, cust_id))
    assert notice.status_code == 201
    body = notice.json()
    validate_swagger("TMF681", "CommunicationMessage", body)
    assert body["status"] == "queued" and body["state"] == "initial"
    assert "REGULATORY" in {r["code"] for r in body["reasons"]}
    assert body["receiver"][0]["email"] == "margaret.hughes@mail.example"
    assert body["messageId"].endswith("@onethread.example>")
    # On the case, with its verdict
    on_case = client.get(f"{V1}/cases/{case_id}/messages", headers=admin).json()
    assert [m["id"] for m in on_case] == [body["id"]]


def test_no_consent_opt_out_and_the_send_key(client, admin, uow, clock):
    with uow() as s:
        cust_id = person(s, clock, "Nora", "Consent", email="nora@mail.example").id
    first = client.post(TMF, headers=admin, json=message_for({"purpose": "marketing", "sendKey": "spring-1"},
                                                             cust_id))
    assert first.status_code == 201 and first.json()["reasons"][0]["code"] == "NO_MARKETING_CONSENT"
    again = client.post(TMF, headers=admin, json=message_for({"purpose": "marketing", "sendKey": "spring-1"},
                                                             cust_id))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    client.put(f"{V1}/customers/{cust_id}/contact-preferences", headers=admin,
               json={"marketingConsent": True, "optedOut": ["retention"]})
    ok = client.post(TMF, headers=admin, json=message_for({"purpose": "marketing"}, cust_id)).json()
    assert ok["status"] == "queued"
    kept = client.post(TMF, headers=admin, json=message_for({"purpose": "retention"}, cust_id)).json()
    assert kept["status"] == "suppressed" and kept["reasons"][0]["code"] == "OPTED_OUT"


def test_a_letters_only_customers_email_reply_goes_out_as_a_letter_copied_to_her_son(
        client, uow, clock, agent):
    with uow() as s:
        edith = person(s, clock, "Edith", "Clarke", email="robert.clarke@mail.example")
        son = customers.create_individual(s, clock, SYSTEM, given_name="Robert", family_name="Clarke")
        customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=son.id, relationship="son",
                                     permissions=["view_cases", "receive_letters"],
                                     valid_from=clock.now().date() - timedelta(days=30))
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="digital_exclusion",
                                       consent_given=True, review_on=clock.now().date() + timedelta(days=180),
                                       needs=["no_digital_only_contact", "letters"])
        case = cases.open_new(s, clock, agent, customer_id=edith.id, kind="damage_claim", title="Heating pipe",
                              opened_via="phone")
        case_id = case.id
    with uow() as s:
        _, secret = access.create_token(s, clock, name="alex", role="agent", staff_user_id=agent.id)
    as_alex = {"Authorization": f"Bearer {secret}"}
    reply = client.post(f"{V1}/cases/{case_id}/replies", headers=as_alex,
                        json={"text": "The plumber comes on Tuesday morning.", "channel": "email"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["channel"] == "letter"
    [message] = client.get(f"{V1}/cases/{case_id}/messages", headers=as_alex).json()
    assert (message["askedChannel"], message["channel"], message["status"]) == ("email", "letter", "queued")
    codes = [r["code"] for r in message["reasons"]]
    assert "CHANNEL_LETTERS_ONLY" in codes and "COPY_REPRESENTATIVE" in codes
    assert message["copiedTo"] == ["Robert Clarke"]
    with uow() as s:
        doc = s.scalar(select(LetterDocument).where(LetterDocument.message_id == message["id"]))
        text = pypdf.PdfReader(io.BytesIO(doc.content)).pages[0].extract_text()
    assert "plumber comes on Tuesday" in text and "cc: Robert Clarke" in text and doc.postal


def test_bad_input_is_a_clear_400_and_writes_nothing(client, admin, uow, clock):
    with uow() as s:
        cust_id = person(s, clock, "Bad", "Input", email="bad@mail.example").id
    for body, field in [
        (message_for({"messageType": "Pigeon"}, cust_id), "messageType"),
        ({**message_for({}, cust_id), "receiver": [{"email": "other@else.example", "party": {"id": cust_id}}]},
         "receiver"),
        ({**message_for({}, cust_id), "@type": "CommunicationMessage", "purpose": "marketing"}, "@type"),
        (message_for({"template": "nope"}, cust_id), "template"),
        (message_for({"content": " "}, cust_id), "content"),
    ]:
        body_ = assert_tmf_error(client.post(TMF, headers=admin, json=body), 400)
        assert body_.get("field") in (field, None), body_
    assert_tmf_error(client.post(TMF, headers=admin, json=message_for({}, "01NOSUCHCUSTOMER0000000000")), 404)
    assert_tmf_error(client.get(f"{TMF}/01NOSUCHMESSAGE00000000000", headers=admin), 404)
    assert_tmf_error(client.put(f"{V1}/customers/{cust_id}/contact-preferences", headers=admin,
                                json={"channels": ["email"]}), 400)
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_who_may_do_what(client, uow, clock, token_for):
    with uow() as s:
        cust_id = person(s, clock, "Role", "Check").id
    assert_tmf_error(client.post(TMF, headers=token_for("field_subcontractor"), json=message_for({}, cust_id)), 403)
    assert_tmf_error(client.get(f"{V1}/channels/health", headers=token_for("agent")), 403)
    assert client.get(f"{V1}/channels/health", headers=token_for("team_lead")).status_code == 200
    assert_tmf_error(client.post(f"{V1}/print-batches", headers=token_for("agent")), 403)


def test_a_held_message_is_decided_by_a_named_lead(client, uow, clock, container):
    with uow() as s:
        cust = person(s, clock, "Vera", "Vulnerable", email="vera@mail.example")
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=cust.id, kind="bereavement", consent_given=True,
                                       review_on=clock.now().date() + timedelta(days=90), needs=[])
        lead = access.create_user(s, clock, username="lee.lead", display_name="Lee Carter", role="team_lead",
                                  password=None)
        cust_id = cust.id
        _, secret = access.create_token(s, clock, name="lee", role="team_lead", staff_user_id=lead.id)
    lee = {"Authorization": f"Bearer {secret}"}
    client.put(f"{V1}/customers/{cust_id}/contact-preferences", headers=lee, json={"marketingConsent": True})
    held = client.post(TMF, headers=lee, json=message_for({"purpose": "marketing"}, cust_id)).json()
    assert held["status"] == "held" and held["reasons"][0]["code"] == "VULNERABLE_REVIEW"
    released = client.post(f"{V1}/outbound-messages/{held['id']}/decision", headers=lee,
                           json={"decision": "release", "note": "checked with her daughter"})
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "queued" and released.json()["reasons"][-1]["code"] == "RELEASED"
    assert "Lee Carter" in released.json()["reasons"][-1]["reason"]
    again = client.post(f"{V1}/outbound-messages/{held['id']}/decision", headers=lee,
                        json={"decision": "cancel", "note": "x"})
    assert_tmf_error(again, 409)


def test_quiet_hours_defer_an_sms_until_morning(client, admin, uow, clock):
    clock.set(datetime(2026, 3, 2, 22, 30, tzinfo=UTC))  # 22:30 in London
    with uow() as s:
        cust = person(s, clock, "Quinn", "Quiet")
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="msisdn", value="07700 900777",
                                  valid_from=clock.now() - timedelta(days=10), region="GB")
        cust_id = cust.id
    sms = client.post(TMF, headers=admin, json=message_for({"messageType": "SMS", "content": "Engineer at 10"},
                                                           cust_id)).json()
    assert sms["status"] == "queued" and sms["receiver"][0]["phoneNumber"] == "+447700900777"
    assert "QUIET_HOURS" in {r["code"] for r in sms["reasons"]}
    assert sms["scheduledSendTime"] == "2026-03-03T08:30:00+00:00"


def test_the_customer_downloads_her_letter_in_the_portal_nobody_elses(client, admin, uow, clock):
    from onethread.access import portal as accounts

    with uow() as s:
        mine = person(s, clock, "Edith", "Clarke")
        other = person(s, clock, "Olga", "Other")
        line = inventory.add_product(s, clock, SYSTEM, customer_id=mine.id, kind="fibre", name="Fibre 150",
                                     price_minor=3500, currency="GBP", activated_at=clock.now() - timedelta(days=999))
        inventory.change_status(s, clock, SYSTEM, line, "terminated", channel="phone", reason="moving abroad")
        theirs = inventory.add_product(s, clock, SYSTEM, customer_id=other.id, kind="fibre", name="Fibre 500",
                                       price_minor=4500, currency="GBP",
                                       activated_at=clock.now() - timedelta(days=999))
        inventory.change_status(s, clock, SYSTEM, theirs, "terminated", channel="phone", reason="leaving")
        accounts.create_account(s, clock, party_id=mine.party_id, login="edith@mail.example",
                                password="a long password 1")
        ids = {c.id: c for c in (mine, other)}
        docs = {d.customer_id: d.id for d in s.scalars(select(LetterDocument))}
    assert set(docs) == set(ids)
    client.cookies.clear()
    signed = client.post("/portal/login", data={"login": "edith@mail.example", "password": "a long password 1"},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text
    own = client.get(f"{V1}/portal/letters/{docs[mine.id]}/pdf")
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert_tmf_error(client.get(f"{V1}/portal/letters/{docs[other.id]}/pdf"), 404)
    client.cookies.clear()
    assert_tmf_error(client.get(f"{V1}/letters/{docs[mine.id]}/pdf"), 401)


def test_postal_letters_go_out_in_a_print_batch_once(client, admin, uow, clock, container, token_for):
    from onethread.jobs.runner import run_once

    with uow() as s:
        leaver = person(s, clock, "Lena", "Leaver")
        line = inventory.add_product(s, clock, SYSTEM, customer_id=leaver.id, kind="mobile_line", name="Unlimited",
                                     price_minor=2500, currency="GBP", activated_at=clock.now() - timedelta(days=900))
        inventory.change_status(s, clock, SYSTEM, line, "terminated", channel="phone", reason="leaving")
    empty = client.post(f"{V1}/print-batches", headers=admin)  # queued, not sent yet: nothing to print
    assert empty.status_code == 201 and empty.headers["X-Letter-Count"] == "0"
    run_once(container)  # the worker hands the letter to the print queue
    [letter] = client.get(TMF, headers=admin).json()
    assert letter["status"] == "sent" and letter["reasons"][-1]["code"] == "SENT"
    batch = client.post(f"{V1}/print-batches", headers=token_for("back_office"))
    assert batch.status_code == 201 and batch.headers["X-Letter-Count"] == "1"
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(batch.content))
    [pdf] = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert archive.read(pdf).startswith(b"%PDF") and "Lena Leaver" in archive.read("manifest.csv").decode()
    again = client.post(f"{V1}/print-batches", headers=admin)
    assert again.headers["X-Letter-Count"] == "0"  # never printed twice
    same = client.get(batch.headers["Location"], headers=admin)
    assert same.status_code == 200 and same.headers["X-Letter-Count"] == "1"
