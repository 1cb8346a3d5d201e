"""Issue 16, done when: on the sandbox clock, over HTTP, the S2 complaint reaches the regulator's
deadline; the deadlock letter exists as a PDF and is delivered as an e-mail that the test reads
back from the mail server (a private Postfix into a private Dovecot); the customer's reply to that
e-mail threads back onto the case. A real ``onethread serve`` and real ``onethread worker --once``
processes, on one database."""

from __future__ import annotations

import email
import io
import subprocess
import uuid
from email.message import EmailMessage
from email.utils import format_datetime

import httpx
import pypdf

from tests.support.mail import delivered
from tests.support.mail import dovecot as dovecot
from tests.support.mail import postfix as postfix
from tests.support.sandbox import ONETHREAD, START, cli, s2_complaint
from tests.support.sandbox import sandbox as sandbox

MARGARET = "margaret.hughes@mail.example"


def worker(env: dict, **settings: str) -> str:
    done = subprocess.run([ONETHREAD, "worker", "--once"], env={**env, **settings}, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_deadlock_letter_is_emailed_as_a_pdf_and_the_answer_joins_the_case(sandbox, dovecot, postfix):
    env, base = sandbox
    intake = f"intake_{uuid.uuid4().hex[:12]}"
    dovecot.create_mailbox(intake)
    mail = {"ONETHREAD_SMTP_HOST": "127.0.0.1", "ONETHREAD_SMTP_PORT": str(postfix.port),
            "ONETHREAD_SMTP_SECURITY": "none", "ONETHREAD_IMAP_HOST": dovecot.host,
            "ONETHREAD_IMAP_PORT": str(dovecot.port), "ONETHREAD_IMAP_SSL": "false",
            "ONETHREAD_IMAP_USER": dovecot.user, "ONETHREAD_IMAP_PASSWORD": dovecot.password,
            "ONETHREAD_IMAP_MAILBOX": intake}
    token = cli(env, "token", "create", "--name", "trainer", "--role", "admin", "--expires", "P1D").splitlines()[0]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as api:
        assert api.post("/api/v1/admin/clock", json={"now": START}).status_code == 200
        _, case = s2_complaint(api, "owner.s2", email=MARGARET)
        assert api.post("/api/v1/admin/clock", json={"advance": "P8W"}).status_code == 200

        [letter] = api.get(f"/api/v1/cases/{case['id']}/messages").json()
        assert (letter["template"], letter["purpose"], letter["channel"], letter["status"]) == (
            "deadlock", "regulatory", "email", "queued")
        [pdf] = letter["attachment"]
        stored = api.get(pdf["url"])  # the PDF exists, downloadable by staff
        assert stored.status_code == 200 and stored.content.startswith(b"%PDF")

        out = worker(env, **mail)  # the worker sends it: never the request, never the clock's move
        assert "1 sent" in out, out
        [sent] = delivered(dovecot, letter["messageId"])
        assert sent["To"] == MARGARET and sent["Subject"] == "Your complaint: your right to go to the ombudsman"
        [attached] = list(sent.iter_attachments())
        text = pypdf.PdfReader(io.BytesIO(attached.get_content())).pages[0].extract_text()
        assert "Communications Ombudsman" in text and "No incoming calls" in text
        assert attached.get_content() == stored.content

        reply = EmailMessage()
        reply["From"] = f"Margaret Hughes <{MARGARET}>"
        reply["To"] = "customer.care@onethread.example"
        reply["Subject"] = "Re: Your complaint: your right to go to the ombudsman"
        reply["Date"] = format_datetime(email.utils.parsedate_to_datetime(sent["Date"]))
        reply["Message-ID"] = f"<reply.{uuid.uuid4().hex[:8]}@mail.example>"
        reply["In-Reply-To"] = sent["Message-ID"]
        reply["References"] = sent["Message-ID"]
        reply.set_content("I will write to the ombudsman, but I would rather you fixed my phone.")
        dovecot.append(intake, bytes(reply))
        worker(env, **mail)

        events = api.get(f"/api/v1/cases/{case['id']}/events", params={"limit": 200}).json()
        linked = [e for e in events if e["kind"] == "contact_linked"]
        assert linked and "rather you fixed my phone" in linked[-1]["text"]
        assert linked[-1]["actor"]["name"] == "E-mail threading"
