"""Issue 15, item 6: attachments kept. An e-mail's files through the real IMAP intake (a private
Dovecot), a portal upload through the API and the page, field photos: stored, checked (size, type,
bytes that match the type), linked to the contact, shown on the timeline and the case, and
downloadable under the contact's permissions (another customer gets 404), every read audited."""

from __future__ import annotations

import base64
import uuid
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.attachments import rules
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.jobs.runner import run_once
from onethread.models import Attachment, AuditEntry, Contact
from tests.support.environment import START
from tests.support.mail import dovecot as dovecot
from tests.support.portal_api import CASES, PASSWORD, sign_in
from tests.support.portal_api import world as world
from tests.tmf_schema import assert_tmf_error

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
SENDER = "dana@mail.example"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_rules_check_size_type_and_bytes():
    kept = rules.check("../../etc/bill.pdf", "application/pdf", PDF, max_bytes=1000, allowed=rules.DEFAULT_TYPES)
    assert (kept.filename, kept.content_type, kept.size) == ("bill.pdf", "application/pdf", len(PDF))
    assert rules.check("x", "application/octet-stream", PNG, max_bytes=1000,
                       allowed=rules.DEFAULT_TYPES).content_type == "image/png"
    for name, declared, data, why in (("big.pdf", "application/pdf", PDF * 100, "at most"),
                                      ("fake.pdf", "application/pdf", b"MZ\x90\x00program", "content is"),
                                      ("run.exe", "application/x-msdownload", b"MZ\x90\x00", "onethread keeps"),
                                      ("empty.txt", "text/plain", b"", "empty")):
        with pytest.raises(rules.Refused, match=why):
            rules.check(name, declared, data, max_bytes=1000, allowed=rules.DEFAULT_TYPES)


# --- e-mail, through the real intake --------------------------------------------------------

@pytest.fixture
def mail_settings(database_url, dovecot, tmp_path):
    box = f"test_{uuid.uuid4().hex[:12]}"
    dovecot.create_mailbox(box)
    return box, Settings(database_url=database_url, env="test", imap_host=dovecot.host, imap_port=dovecot.port,
                         imap_ssl=False, imap_user=dovecot.user, imap_password=dovecot.password, imap_mailbox=box,
                         attachments_dir=str(tmp_path / "files"), attachment_max_bytes=10_000)


def test_an_emails_files_are_kept_and_downloadable_only_by_staff(client, admin, token_for, uow, clock, container,
                                                                  dovecot, mail_settings, tmp_path):
    box, settings = mail_settings
    from onethread.bootstrap import build
    mailer = build(settings, clock=clock)
    try:
        with uow() as s:
            party = customers.create_individual(s, clock, SYSTEM, given_name="Dana", family_name="Known")
            cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
            identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="email", value=SENDER,
                                      valid_from=START)
            customer_id = cust.id
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = SENDER, "support@operator.example", "My bill, and the damage"
        msg["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example>"
        msg.set_content("The bill and a photo of the wall are attached.")
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="bill.pdf")
        msg.add_attachment(PNG, maintype="image", subtype="png", filename="wall.png")
        msg.add_attachment(b"MZ\x90\x00 a program", maintype="application", subtype="pdf", filename="invoice.pdf")
        dovecot.append(box, bytes(msg))
        run_once(mailer)
    finally:
        mailer.dispose()

    with uow() as s:
        contact = s.scalar(select(Contact).where(Contact.customer_id == customer_id))
        kept = s.scalars(select(Attachment).where(Attachment.contact_id == contact.id)
                         .order_by(Attachment.filename)).all()
        listed = contact.attachments
    assert [(a.filename, a.content_type, a.source) for a in kept] == [("bill.pdf", "application/pdf", "email"),
                                                                      ("wall.png", "image/png", "email")]
    assert listed[2]["filename"] == "invoice.pdf" and "content is" in listed[2]["refused"]  # noted, not kept
    bill = next(a for a in kept if a.filename == "bill.pdf")

    # The same bytes back, from the store the mail intake wrote (the API reads the same directory).
    api = build(Settings(database_url=settings.database_url, env="test", attachments_dir=str(tmp_path / "files")),
                clock=clock)
    try:
        from fastapi.testclient import TestClient

        from onethread.app import create_app
        with TestClient(create_app(container=api)) as c:
            agent = token_for("agent")
            got = c.get(f"/api/v1/attachments/{bill.id}/content", headers=agent)
            assert got.status_code == 200 and got.content == PDF
            assert got.headers["content-type"] == "application/pdf"
            assert got.headers["content-disposition"].startswith('attachment; filename="bill.pdf"')
            assert got.headers["x-content-type-options"] == "nosniff"
            meta = c.get(f"/api/v1/attachments/{bill.id}", headers=agent).json()
            assert meta["contactId"] == contact.id and meta["size"] == len(PDF)
            # On the timeline with the contact.
            entries = c.get(f"/api/v1/customers/{customer_id}/timeline", headers=agent).json()["entries"]
            assert any(e["ref"] and e["ref"]["id"] == contact.id for e in entries)
            tmf = c.get(f"/tmf-api/partyInteraction/v5/partyInteraction/{contact.id}", headers=agent).json()
            assert {a.get("url") for a in tmf["attachment"]} >= {f"/api/v1/attachments/{bill.id}/content"}
            # Roles that may not read contacts may not read their files either; a wrong id is 404.
            assert c.get(f"/api/v1/attachments/{bill.id}/content", headers=token_for("field_subcontractor")
                         ).status_code == 403
            assert_tmf_error(c.get("/api/v1/attachments/NOPE/content", headers=agent), 404)
    finally:
        api.dispose()
    with uow() as s:
        audited = s.scalars(select(AuditEntry).where(AuditEntry.resource_type == "attachment",
                                                     AuditEntry.resource_id == bill.id)).all()
        assert audited and {a.customer_id for a in audited} == {customer_id}


# --- the portal ------------------------------------------------------------------------------

def test_a_portal_upload_is_kept_and_another_customer_gets_404(client, world, uow, token_for):
    sign_in(client, "robert.clarke@mail.example")
    sent = client.post(f"{CASES}/{world['edith_case']}/messages", json={
        "text": "Photos of the wall, as promised.", "files": [{"name": "wall.png", "mimeType": "image/png",
                                                                "content": b64(PNG)}]})
    assert sent.status_code == 201, sent.text
    [file] = sent.json()["files"]
    assert file["name"] == "wall.png" and file["url"] == f"/api/v1/portal/attachments/{file['id']}"
    assert client.get(file["url"]).content == PNG
    log = client.get(f"{CASES}/{world['edith_case']}").json()["log"]
    assert log[-1]["files"] == [file]

    # A refused file refuses the message: nothing is written.
    with uow() as s:
        before = s.scalar(select(func.count()).select_from(Contact))
    bad = client.post(f"{CASES}/{world['edith_case']}/messages", json={
        "text": "and this", "files": [{"name": "x.pdf", "mimeType": "application/pdf", "content": b64(b"MZ fake")}]})
    assert "content is" in assert_tmf_error(bad, 400)["message"]
    assert_tmf_error(client.post(f"{CASES}/{world['edith_case']}/messages", json={
        "files": [{"name": "x.png", "content": "not base64!"}]}), 400)
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == before

    # Margaret sees nothing of Edith's: the file is 404 for her, in the API and the page.
    sign_in(client, "margaret.hughes@mail.example")
    assert_tmf_error(client.get(file["url"]), 404)
    assert client.get(f"/portal/attachments/{file['id']}", headers={"Accept": "text/html"}).status_code == 404

    # Staff see it on the case page and download it there, audited.
    client.cookies.clear()
    assert client.post("/login", data={"username": "gertrude.b", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    page = client.get(f"/cases/{world['edith_case']}").text
    assert f'href="/attachments/{file["id"]}"' in page and "wall.png" in page
    assert client.get(f"/attachments/{file['id']}").content == PNG
    timeline = client.get(f"/customers/{world['edith']}").text
    assert f'href="/attachments/{file["id"]}"' in timeline


def test_the_portal_page_takes_files_with_the_message(client, world, uow):
    sign_in(client, "edith@mail.example")
    r = client.post(f"/portal/cases/{world['edith_case']}/messages", data={"text": "The plumber's invoice."},
                    files=[("files", ("invoice.pdf", PDF, "application/pdf"))], follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/portal/cases/{world['edith_case']}").text
    assert "invoice.pdf" in page
    with uow() as s:
        kept = s.scalars(select(Attachment)).one()
        assert (kept.source, kept.customer_id) == ("portal", world["edith"])
        assert s.get(Contact, kept.contact_id).case_id == world["edith_case"]
    refused = client.post(f"/portal/cases/{world['edith_case']}/messages", data={"text": "one more"},
                          files=[("files", ("run.exe", b"MZ\x90\x00", "application/x-msdownload"))])
    assert refused.status_code == 400 and "onethread keeps" in refused.text
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1


# --- field photos ----------------------------------------------------------------------------

def test_field_photos_are_kept_with_the_technicians_note(client, admin, uow, clock):
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        customer_id = cust.id
    note = {"noteId": "FN-1", "workOrderRef": "WO-9", "text": "Drilled through a heating pipe.",
            "customerId": customer_id, "technician": {"name": "Finn Walsh", "company": "FibreFix Ltd"},
            "photos": [{"name": "pipe.jpg", "mimeType": "image/png", "content": b64(PNG)},
                       {"name": "meter.jpg", "mimeType": "image/jpeg", "url": "https://fibrefix.example/m.jpg"}]}
    r = client.post("/api/v1/channels/field/notes", json=note, headers=admin)
    assert r.status_code == 201, r.text
    with uow() as s:
        contact = s.get(Contact, r.json()["id"])
        [kept] = s.scalars(select(Attachment).where(Attachment.contact_id == contact.id)).all()
        assert (kept.source, kept.content_type) == ("field", "image/png")
        assert [a.get("id") for a in contact.attachments] == [kept.id, None]  # the other: metadata only
        assert not any("content" in a for a in contact.attachments)  # the bytes are in the store, not the row
    got = client.get(f"/api/v1/attachments/{kept.id}/content", headers=admin)
    assert got.content == PNG
    bad = dict(note, noteId="FN-2", photos=[{"name": "pipe.jpg", "mimeType": "image/jpeg", "content": b64(PNG)}])
    assert "content is image/png" in assert_tmf_error(client.post("/api/v1/channels/field/notes", json=bad,
                                                                  headers=admin), 400)["message"]
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_tmf683_contact_may_carry_file_content(client, admin, uow, clock):
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Priya", family_name="Shah")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        customer_id = cust.id
    body = {"direction": "inbound", "relatedChannel": [{"role": "interactionChannel", "channel": {"name": "letter"}}],
            "relatedParty": [{"role": "customer", "partyOrPartyRole": {"@type": "PartyRoleRef", "id": customer_id}}],
            "description": "A scanned letter", "reason": "Letter",
            "attachment": [{"@type": "Attachment", "name": "letter.pdf", "mimeType": "application/pdf",
                            "content": b64(PDF)}]}
    r = client.post("/tmf-api/partyInteraction/v5/partyInteraction", json=body, headers=admin)
    assert r.status_code == 201, r.text
    [att] = r.json()["attachment"]
    assert att["url"].startswith("/api/v1/attachments/") and att["name"] == "letter.pdf"
    assert client.get(att["url"], headers=admin).content == PDF
    with uow() as s:
        assert s.get(Contact, r.json()["id"]).attachments[0]["id"] == att["id"]
